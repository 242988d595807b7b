// libsam's state record (its cmap keys under resources.process.<pid>.) as supervision makes
// it, and where it goes: the sinks (a JSON file, record_file.ts; corosync's cmap,
// corosync/cmap_sink.ts, which defines the record as libsam keeps it).
import type { RecordSink, RecordState, StateRecord } from "../corosync/cmap_sink.ts";
import type { SupervisorStatus } from "../events.ts";
import { monotonicNs } from "../platform/clock.ts";
import { restarts } from "../shared_memory/validate.ts";
import type { InstancePhase } from "./instance.ts";
import type { EndReason } from "./recovery.ts";

export type { RecordSink, RecordState, StateRecord } from "../corosync/cmap_sink.ts";

/** End reasons that leave libsam's record as failed: recovery under quit ended supervision. */
export function leavesFailed(reason: EndReason): boolean {
  return reason === "failed" || reason === "quit" || reason === "restart-limit";
}

/**
 * libsam's state from how supervision ended (null while it runs) and the current instance's
 * phase (null between instances): running while health checking is started.
 */
export function recordState(ended: EndReason | null, phase: InstancePhase | null): RecordState {
  if (ended !== null) return leavesFailed(ended) ? "failed" : "stopped";
  if (phase?.phase === "checking" || phase?.phase === "warned") return "running";
  if (phase?.phase === "registered" && phase.waitingForQuorum) return "waiting for quorum";
  return "stopped";
}

/** What supervision's status is made of. */
export interface StatusFacts {
  /** The current (or last) instance's id; 0 before the first. */
  instanceId: number;
  /** How supervision ended; null while it runs. */
  ended: EndReason | null;
  /** The current instance's phase; null between instances. */
  phase: InstancePhase | null;
  /** The recovery policy now (markFailed() switches it to quit). */
  policy: number;
  interval: number;
  /** When the last health check was seen (performance.now() ms); 0 before any. */
  lastCheck: number;
  stuckThreads: number;
}

/** libsam's record as `facts` make it, plus sam's counters. */
export function statusOf(facts: StatusFacts): SupervisorStatus {
  const lastUpdated = facts.lastCheck === 0 ? 0 : monotonicNs(facts.lastCheck);
  return {
    instanceId: facts.instanceId,
    state: recordState(facts.ended, facts.phase),
    recovery: restarts(facts.policy) ? "restart" : "quit",
    pollPeriod: facts.interval,
    lastUpdated,
    poll_period: facts.interval,
    last_updated: lastUpdated,
    restarts: Math.max(0, facts.instanceId - 1),
    stuckThreads: facts.stuckThreads,
  };
}

/** Whether two records differ in more than `lastUpdated`. */
function sameRecord(a: StateRecord | null, b: StateRecord): boolean {
  return a !== null && a.state === b.state && a.recovery === b.recovery &&
    a.pollPeriod === b.pollPeriod;
}

/** Keeps the record in its sinks, written only when it changed. */
export class RecordKeeper {
  readonly #sinks: readonly RecordSink[];
  readonly #changed: (status: SupervisorStatus) => void;
  #record: StateRecord | null = null;
  #instanceId = 0;
  /** When the record was last written (performance.now() ms). */
  writtenAt = 0;

  /** `changed` hears of every change of the record or of the instance. */
  constructor(sinks: readonly RecordSink[], changed: (status: SupervisorStatus) => void) {
    this.#sinks = sinks;
    this.#changed = changed;
  }

  /**
   * Writes the record of `status`: whole when it (or the instance) changed, only its
   * last_updated when just that moved, and nothing otherwise. `markedFailed`: the instance
   * called markFailed(), a command of its own as far as libsam's record goes.
   */
  write(status: SupervisorStatus, markedFailed = false): void {
    const previous = this.#record;
    const sameInstance = this.#instanceId === status.instanceId;
    const record: StateRecord = {
      recovery: status.recovery,
      pollPeriod: status.pollPeriod,
      lastUpdated: status.lastUpdated,
      state: status.state,
      // A new instance's "stopped" is the supervisor's; a state change within one instance
      // comes from its start() or stop(), a "failed" from markFailed().
      touched: previous !== null &&
        (status.state === "failed"
          ? markedFailed
          : sameInstance && previous.state !== status.state),
    };
    const whole = !sameRecord(previous, record) || !sameInstance;
    if (!whole && previous?.lastUpdated === record.lastUpdated) return;
    this.#record = record;
    this.#instanceId = status.instanceId;
    this.writtenAt = performance.now();
    if (whole) this.#changed(status);
    for (const sink of this.#sinks) sink.write(record, whole);
  }

  /**
   * Writes the last record as supervision ends with `reason` (`status` as it ends), and lets
   * go of every sink's connection or timer. As libsam's: left as failed when supervision ends
   * by recovery under quit, removed when it ends with health checking stopped (kept for the
   * new image after a hand-over).
   */
  end(status: SupervisorStatus, reason: EndReason): void {
    this.write(status, reason === "failed");
    if (!leavesFailed(reason) && reason !== "respawned") {
      for (const sink of this.#sinks) sink.remove();
    }
    for (const sink of this.#sinks) sink.close?.();
  }
}
