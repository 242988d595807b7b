// corosync behind the CMAP and QUORUM flags: what initialize() (on the main thread) and
// supervise() connect to, as libsam connects at sam_initialize (quorum) and sam_register
// (cmap). Nothing native is loaded unless a flag asks for corosync.
import { calibrateMonotonic } from "../platform/clock.ts";
import { type CmapConnection, openCmap } from "./cmap.ts";
import { CorosyncQuorum, type CorosyncQuorumOptions } from "./quorum.ts";
import { monotonicNs } from "./libraries.ts";
import { ffiAvailable } from "../platform/ffi.ts";
import { CsError, SamError } from "../errors.ts";
import type { QuorumSource, SamOptions } from "../options.ts";
import { RecoveryPolicy } from "../policy.ts";

/** How often a quorum source whose corosync went away tries to reach it again, in ms. */
const REOPEN_EVERY_MS = 500;

/** The connections supervision is given. */
export interface ClusterLinks {
  /** corosync's cmap, for the record; null to keep it in process. */
  cmap: CmapConnection | null;
  /** corosync's quorum, when the policy has QUORUM and the options no source. */
  quorum: (QuorumSource & { close(): void }) | null;
}

/**
 * Connects what `policy` and `options` ask for. Validated input only; on an error nothing is
 * left open.
 *
 * @throws {SamError} `CS_ERR_LIBRARY` when corosync's quorum is needed and cannot be reached,
 *   or the record must be in corosync (`corosyncRecord: "required"`) and cmap cannot be.
 */
export function connectCluster(policy: number, options: SamOptions): ClusterLinks {
  const links: ClusterLinks = { cmap: null, quorum: null };
  if ((policy & RecoveryPolicy.QUORUM) !== 0 && options.quorum === undefined) {
    links.quorum = _library("corosync's quorum service", () => new ReopeningQuorum());
  }
  const mode = options.corosyncRecord ?? "auto";
  if ((policy & RecoveryPolicy.CMAP) !== 0 && mode !== "off") {
    try {
      // "auto" on Deno without --allow-ffi: asked, never prompted, and kept in process.
      if (mode === "required" || ffiAvailable()) {
        links.cmap = _library('corosync\'s cmap (corosyncRecord: "required")', openCmap);
      }
    } catch (error) {
      if (mode === "required") {
        links.quorum?.close();
        throw error;
      }
    }
  }
  // The record's last_updated is placed on CLOCK_MONOTONIC by one exact reading of it.
  if (links.cmap !== null || links.quorum !== null) calibrateMonotonic(monotonicNs());
  return links;
}

/**
 * Whether `policy` and `options` need corosync (so that initialize() could fail with
 * `CS_ERR_LIBRARY`): QUORUM without a source, or a record that must be in cmap.
 */
export function needsCorosync(policy: number, options: SamOptions): boolean {
  return ((policy & RecoveryPolicy.QUORUM) !== 0 && options.quorum === undefined) ||
    ((policy & RecoveryPolicy.CMAP) !== 0 && options.corosyncRecord === "required");
}

function _library<T>(what: string, open: () => T): T {
  try {
    return open();
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new SamError(CsError.CS_ERR_LIBRARY, `cannot reach ${what}: ${detail}`);
  }
}

/**
 * corosync's quorum that outlives a restart of corosync: when the connection is lost it is
 * inquorate (a `"change"` when it was quorate) and tries to connect again every
 * REOPEN_EVERY_MS, without keeping the program alive.
 */
export class ReopeningQuorum extends EventTarget implements QuorumSource {
  #source: CorosyncQuorum;
  #quorate: boolean;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  readonly #options: CorosyncQuorumOptions;

  /** Connects at once; throws as {@linkcode CorosyncQuorum.open}. */
  constructor(options: CorosyncQuorumOptions = {}) {
    super();
    this.#options = options;
    this.#source = CorosyncQuorum.open(options);
    this.#quorate = this.#source.quorate;
    this.#follow(this.#source);
  }

  /** Whether corosync says the cluster is quorate (false while it cannot be reached). */
  get quorate(): boolean {
    return this.#quorate;
  }

  /** Whether corosync's quorum service is connected now. */
  get connected(): boolean {
    return this.#source.connected;
  }

  #set(quorate: boolean): void {
    if (quorate === this.#quorate) return;
    this.#quorate = quorate;
    this.dispatchEvent(new Event("change"));
  }

  #follow(source: CorosyncQuorum): void {
    source.addEventListener("change", () => this.#set(source.quorate));
    source.addEventListener("disconnect", () => {
      this.#set(false);
      this.dispatchEvent(new Event("disconnect"));
      this.#reopenSoon();
    });
  }

  #reopenSoon(): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      let source: CorosyncQuorum;
      try {
        source = CorosyncQuorum.open(this.#options);
      } catch {
        return; // not back yet
      }
      clearInterval(this.#timer);
      this.#timer = undefined;
      if (this.#closed) return source.close();
      this.#source = source;
      this.#follow(source);
      this.#set(source.quorate);
    }, REOPEN_EVERY_MS);
    _unref(this.#timer);
  }

  /** Stops following corosync's quorum; no event comes afterwards. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#source.close();
  }
}

function _unref(timer: unknown): void {
  const t = timer as { unref?: () => void };
  if (typeof t.unref === "function") t.unref();
  else {(globalThis as { Deno?: { unrefTimer(id: number): void } }).Deno?.unrefTimer(
      timer as number,
    );}
}
