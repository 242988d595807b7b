// corosync behind the CMAP and QUORUM flags: what initialize() (on the main thread) and
// supervise() connect to, as libsam connects at sam_initialize (quorum) and sam_register
// (cmap). Nothing native is loaded unless a flag asks for corosync.
import { calibrateMonotonic, readClockMonotonic } from "../platform/clock.ts";
import { ffiAvailable } from "../platform/ffi.ts";
import { type CmapConnection, openCmap } from "./cmap.ts";
import { ReopeningQuorum } from "./reopening_quorum.ts";
import { CsError, SamError } from "../errors.ts";
import type { QuorumSource, SamOptions } from "../options.ts";
import { RecoveryPolicy } from "../policy.ts";

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
    links.quorum = library("corosync's quorum service", () => new ReopeningQuorum());
  }
  const mode = options.corosyncRecord ?? "auto";
  if ((policy & RecoveryPolicy.CMAP) !== 0 && mode !== "off") {
    try {
      // "auto" on Deno without --allow-ffi: asked, never prompted, and kept in process.
      if (mode === "required" || ffiAvailable()) {
        links.cmap = library('corosync\'s cmap (corosyncRecord: "required")', openCmap);
      }
    } catch (error) {
      if (mode === "required") {
        links.quorum?.close();
        throw error;
      }
    }
  }
  // The record's last_updated is placed on CLOCK_MONOTONIC by one exact reading of it.
  if (links.cmap !== null || links.quorum !== null) calibrateMonotonic(readClockMonotonic());
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

function library<T>(what: string, open: () => T): T {
  try {
    return open();
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new SamError(CsError.CS_ERR_LIBRARY, `cannot reach ${what}: ${detail}`);
  }
}
