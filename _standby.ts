// The standby: the next instance's Worker, spawned ahead once the current instance no longer
// needs the CPU, so that a recovery only wakes it.
import type { Instance } from "./_instance.ts";

/**
 * How long after an instance registered its successor's Worker is spawned: spawning takes a
 * core for a while, which the instance's own start-up needs more.
 */
const STANDBY_DELAY_MS = 20;

/** Holds at most one waiting Worker. */
export class Standby {
  readonly #spawn: () => Instance;
  readonly #enabled: boolean;
  #waiting: Instance | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** `spawn` starts a Worker on the region the next rehome moves the value into. */
  constructor(spawn: () => Instance, enabled: boolean) {
    this.#spawn = spawn;
    this.#enabled = enabled;
  }

  /** Spawns the standby a moment from now, unless there is one. */
  prepareSoon(): void {
    if (!this.#enabled || this.#waiting !== null) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (this.#waiting !== null) return;
      try {
        this.#waiting = this.#spawn();
        // A standby must not keep a finished program alive.
        this.#waiting.worker.unref();
      } catch {
        // No standby: the next recovery spawns its Worker itself.
      }
    }, STANDBY_DELAY_MS);
  }

  /**
   * The standby, when it is still waiting and was given the region whose header is
   * `header`; otherwise it is dismissed and null returned.
   */
  take(header: SharedArrayBuffer): Instance | null {
    clearTimeout(this.#timer);
    const standby = this.#waiting;
    this.#waiting = null;
    if (standby === null) return null;
    if (standby.exitCode === null && standby.regionHeader === header) return standby;
    // Not the region the value is in now (it was reset or rehomed twice): start afresh.
    standby.dismiss();
    return null;
  }

  /** Forgets a standby whose Worker went away. */
  lost(inst: Instance): void {
    if (this.#waiting === inst) this.#waiting = null;
  }

  /** Ends the standby, if any. */
  close(): void {
    clearTimeout(this.#timer);
    this.#waiting?.dismiss();
    this.#waiting = null;
  }
}
