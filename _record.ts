// libsam's state record (its cmap keys under resources.process.<pid>.) and where it goes. A
// sink is one place the record is kept: a JSON file today, corosync's cmap beside it.

/** libsam's state values, as written in its record. */
export type RecordState = "stopped" | "running" | "failed" | "waiting for quorum";

/** The record libsam keeps in cmap under `resources.process.<pid>.`. */
export interface StateRecord {
  /** `quit` or `restart`: the only values corosync's watchdog takes without a reboot. */
  recovery: "quit" | "restart";
  /** The time interval in ms (`poll_period`). */
  pollPeriod: number;
  /** CLOCK_MONOTONIC ns of the last health check (`last_updated`); 0 before any. */
  lastUpdated: number;
  state: RecordState;
}

/** One place the record is kept. */
export interface RecordSink {
  /** Writes the record: whole when `whole`, else only `lastUpdated` changed. */
  write(record: StateRecord, whole: boolean): void;
  /** Removes the record: supervision ended with health checking stopped. */
  remove(): void;
}

/** Whether two records differ in more than `lastUpdated`. */
export function sameRecord(a: StateRecord | null, b: StateRecord): boolean {
  return a !== null && a.state === b.state && a.recovery === b.recovery &&
    a.pollPeriod === b.pollPeriod;
}
