// corosync's quorum that outlives a restart of corosync: what a QUORUM policy without a
// source follows, and what corosyncQuorum() returns.
import type { QuorumSource } from "../options.ts";
import { unrefTimer } from "../platform/timers.ts";
import { CorosyncQuorum, type CorosyncQuorumOptions } from "./quorum.ts";

/** How often a quorum source whose corosync went away tries to reach it again, in ms. */
const REOPEN_EVERY_MS = 500;

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
    unrefTimer(this.#timer);
  }

  /** Stops following corosync's quorum; no event comes afterwards. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#source.close();
  }
}
