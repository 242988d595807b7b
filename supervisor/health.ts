// Health-check timing for one instance: the supervisor's side of hcSend().
//
// hcSend() only counts (one Atomics.add, no clock). The supervisor times the checks itself:
// after it saw one, it sets the deadline, keeps quiet for a moment (so that an instance that
// sends checks in a tight loop wakes it rarely), then asks to be woken by the next check.
import { afterHealthCheck, healthCount, wantHealthWake } from "../shared_memory/protocol.ts";

/**
 * How long after a health check the supervisor waits (at most timeInterval / 8) before it
 * asks to be woken by the next one; a deadline is late by at most this much.
 */
const QUIET_MS = 2;

/** What the timing tells its owner. */
export interface HealthTimerEvents {
  /** A health check was seen, at `at` (performance.now() ms, at most QUIET_MS late). */
  onCheck(at: number): void;
  /** No health check came within the time interval. */
  onLate(): void;
}

/** Times one instance's health checks against its time interval. */
export class HealthTimer {
  readonly #block: Int32Array;
  readonly #interval: number;
  readonly #events: HealthTimerEvents;
  /** One state: not timing, or timing with the count and time of the last check seen. */
  #state: { timing: false } | { timing: true; seen: number; at: number } = { timing: false };
  #deadline: ReturnType<typeof setTimeout> | undefined;
  #quiet: ReturnType<typeof setTimeout> | undefined;
  #waiting = false;

  constructor(block: Int32Array, interval: number, events: HealthTimerEvents) {
    this.#block = block;
    this.#interval = interval;
    this.#events = events;
  }

  /** When the last health check was seen (performance.now() ms); 0 before any. */
  lastCheck = 0;

  /** Starts timing; starting counts as a health check. */
  start(): void {
    this.#state = { timing: true, seen: 0, at: 0 };
    this.#checked();
  }

  /** Stops timing (health checking stopped, a warning went out, or the instance ended). */
  stop(): void {
    this.#state = { timing: false };
    this.#clearTimers();
  }

  #clearTimers(): void {
    clearTimeout(this.#deadline);
    clearTimeout(this.#quiet);
    this.#deadline = this.#quiet = undefined;
    wantHealthWake(this.#block, false);
  }

  /**
   * Takes in a health check that came but was not seen yet: the instance is ending, and its
   * last check still counts for the record (libsam writes last_updated for each one).
   */
  settle(): void {
    if (this.#newCheck()) this.#checked();
  }

  #count(): number {
    return healthCount(this.#block);
  }

  /** A health check was seen now (or at most QUIET_MS ago): a new deadline. */
  #checked(): void {
    this.#clearTimers();
    if (!this.#state.timing) return;
    const at = performance.now();
    this.#state = { timing: true, seen: this.#count(), at };
    this.lastCheck = at;
    this.#events.onCheck(at);
    if (this.#interval === 0 || !this.#state.timing) return;
    this.#deadline = setTimeout(() => this.#atDeadline(), this.#interval);
    this.#quiet = setTimeout(() => this.#askForWake(), Math.min(this.#interval / 8, QUIET_MS));
  }

  #newCheck(): boolean {
    return this.#state.timing && this.#count() !== this.#state.seen;
  }

  /** Asks the instance to wake the supervisor at its next health check. */
  #askForWake(): void {
    this.#quiet = undefined;
    if (!this.#state.timing) return;
    wantHealthWake(this.#block, true);
    // One that came during the quiet time came at most QUIET_MS ago.
    if (this.#newCheck()) return this.#checked();
    if (this.#waiting) return;
    this.#waiting = true;
    afterHealthCheck(this.#block, this.#state.seen, () => {
      this.#waiting = false;
      if (!this.#state.timing) return;
      if (this.#newCheck()) return this.#checked();
      // Woken without a health check: ask again later, so that stray wakes stay rare.
      this.#quiet = setTimeout(() => this.#askForWake(), QUIET_MS);
    });
  }

  #atDeadline(): void {
    this.#deadline = undefined;
    if (!this.#state.timing) return;
    // A wake-up for a health check may be on its way.
    if (this.#newCheck()) return this.#checked();
    this.stop();
    this.#events.onLate();
  }
}
