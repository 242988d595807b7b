// A state record sink in corosync's own cmap: libsam's keys under resources.process.<pid>.,
// with its types and its order of writes, so that corosync-cmapctl and corosync's watchdog
// service (exec/wd.c) see a sam process as they see a libsam one.
//
// libsam (lib/sam.c) writes, in this order: at register `recovery` (str) and `poll_period`
// (u64), then `state` = stopped before each new child (the watchdog creates its resource when
// `state` appears, with the poll period it finds). For each command of the child (start, stop,
// mark failed, a health check) it writes `last_updated` first, then the state the command
// leads to; under QUORUM `waiting for quorum` comes before `running`, even when quorate. It
// never rewrites `recovery`, not even when mark failed switches its own policy to quit.
//
// The record itself and what a sink is are defined here, beside libsam's keys: the
// supervisor's record.ts makes the record, and its sinks (this one, a JSON file) keep it.
import process from "node:process";
import { CsError, SamError } from "../errors.ts";
import type { CmapConnection } from "./cmap.ts";
import { readClockMonotonic } from "../platform/clock.ts";
import { unrefTimer } from "../platform/timers.ts";
import type { SupervisorState } from "../events.ts";

/** libsam's state values, as written in its record. */
export type RecordState = SupervisorState;

/** The record libsam keeps in cmap under `resources.process.<pid>.`. */
export interface StateRecord {
  /** `quit` or `restart`: the only values corosync's watchdog takes without a reboot. */
  recovery: "quit" | "restart";
  /** The time interval in ms (`poll_period`). */
  pollPeriod: number;
  /** CLOCK_MONOTONIC ns of the last health check (`last_updated`); 0 before any. */
  lastUpdated: number;
  state: RecordState;
  /**
   * Whether this change answers a call of the instance (start, stop, markFailed): libsam
   * rewrites `last_updated` for each command of its child before it writes the state.
   */
  touched: boolean;
}

/** One place the record is kept. */
export interface RecordSink {
  /** Writes the record: whole when `whole`, else only `lastUpdated` changed. */
  write(record: StateRecord, whole: boolean): void;
  /** Removes the record: supervision ended with health checking stopped. */
  remove(): void;
  /** Lets go of what the sink holds (a connection, a timer); the record stays as it is. */
  close?(): void;
}

/** How long after a failed attempt the sink tries to reach corosync again, in ms. */
const RECONNECT_EVERY_MS = 500;

/** Options of {@linkcode cmapSink}. */
export interface CmapSinkOptions {
  /** The policy has the QUORUM flag: `waiting for quorum` comes before `running`. */
  quorum: boolean;
  /** The key prefix; libsam's `resources.process.<pid>.` by default. */
  prefix?: string;
}

/** What the sink last wrote to cmap, to write only what changed and again after a loss. */
interface Written {
  recovery: string;
  pollPeriod: number;
  lastUpdated: bigint;
  state: RecordState;
}

/**
 * A sink writing the record into corosync's cmap through `cmap`, which it owns. Errors are
 * reported once, never thrown: a record that corosync cannot take must not end supervision.
 * When corosync went away and is back, the record is written again whole (cmap lives in
 * corosync's memory and comes back empty).
 */
export function cmapSink(cmap: CmapConnection, options: CmapSinkOptions): RecordSink {
  const prefix = options.prefix ?? `resources.process.${process.pid}.`;
  let written: Written | null = null;
  let lost = false;
  let lastAttempt = 0;
  let refresh: ReturnType<typeof setInterval> | undefined;
  let closed = false;

  const stamp = (at: bigint): bigint => {
    // Never backwards: the supervisor's clock and this one are the same CLOCK_MONOTONIC.
    const last = written?.lastUpdated ?? 0n;
    return at > last ? at : last;
  };
  const setLastUpdated = (w: Written, at: bigint) => {
    w.lastUpdated = stamp(at);
    cmap.setUint64(prefix + "last_updated", w.lastUpdated);
  };
  const setState = (w: Written, state: RecordState) => {
    w.state = state;
    cmap.setString(prefix + "state", state);
  };

  /** The whole record, in libsam's order: state last, so that the watchdog sees the rest. */
  const writeWhole = (w: Written) => {
    cmap.setString(prefix + "recovery", w.recovery);
    cmap.setUint64(prefix + "poll_period", BigInt(w.pollPeriod));
    if (w.lastUpdated > 0n) cmap.setUint64(prefix + "last_updated", w.lastUpdated);
    cmap.setString(prefix + "state", w.state);
  };

  const writeChange = (w: Written, record: StateRecord) => {
    const from = w.state;
    const to = record.state;
    const at = record.lastUpdated > 0 ? BigInt(record.lastUpdated) : 0n;
    if (from === to) {
      if (at > w.lastUpdated) setLastUpdated(w, at);
      return;
    }
    if (!record.touched) {
      // The supervisor's own change (a new instance, the end): no command of its own, but a
      // health check not yet written (the throttle) was one, and came first.
      if (at > w.lastUpdated) setLastUpdated(w, at);
      return setState(w, to);
    }
    if (from === "waiting for quorum" && to === "running") {
      // libsam stamped the start when it began to wait; the first health check follows.
      setState(w, to);
      if (at > w.lastUpdated) setLastUpdated(w, at);
      return;
    }
    setLastUpdated(w, at > w.lastUpdated ? at : readClockMonotonic());
    if (options.quorum && from === "stopped" && to === "running") {
      setState(w, "waiting for quorum");
    }
    setState(w, to);
  };

  const reachable = (): boolean => {
    if (!lost && cmap.connected) return true;
    const now = performance.now();
    if (now - lastAttempt < RECONNECT_EVERY_MS) return false;
    lastAttempt = now;
    try {
      cmap.reconnect();
    } catch {
      return false;
    }
    console.error(`sam: corosync's cmap is back; writing the record ${prefix}* again`);
    lost = false;
    if (written !== null) writeWhole(written);
    return true;
  };

  const failed = (error: unknown) => {
    if (!(error instanceof SamError) || error.code !== CsError.CS_ERR_LIBRARY) {
      console.error(`sam: cannot write the record ${prefix}* in corosync's cmap: ${error}`);
      return;
    }
    if (!lost) console.error(`sam: corosync's cmap went away (${error.message})`);
    lost = true;
    lastAttempt = performance.now();
  };

  // While nothing refreshes last_updated (stopped, waiting for quorum, between instances),
  // the supervisor stamps it itself, so that corosync's watchdog fails the process only when
  // the process itself is gone; see README, "In a corosync cluster".
  const follow = (state: RecordState) => {
    const idle = written !== null && written.lastUpdated > 0n &&
      (state === "stopped" || state === "waiting for quorum");
    if (!idle) {
      clearInterval(refresh);
      refresh = undefined;
      return;
    }
    if (refresh !== undefined) return;
    const period = Math.max(100, written!.pollPeriod > 0 ? written!.pollPeriod / 2 : 1000);
    refresh = setInterval(() => {
      if (closed || written === null) return;
      try {
        if (reachable()) setLastUpdated(written, readClockMonotonic());
      } catch (error) {
        failed(error);
      }
    }, period);
    unrefTimer(refresh);
  };

  return {
    write(record: StateRecord): void {
      if (closed) return;
      try {
        if (!reachable()) {
          // Kept for the whole write once corosync is back.
          if (written !== null) {
            written.state = record.state;
            if (record.lastUpdated > 0) written.lastUpdated = stamp(BigInt(record.lastUpdated));
          }
          return;
        }
        if (written === null) {
          // Written once: libsam never rewrites recovery, not even after mark failed.
          written = {
            recovery: record.recovery,
            pollPeriod: record.pollPeriod,
            lastUpdated: record.lastUpdated > 0 ? BigInt(record.lastUpdated) : 0n,
            state: record.state,
          };
          writeWhole(written);
        } else writeChange(written, record);
      } catch (error) {
        failed(error);
      } finally {
        follow(record.state);
      }
    },
    remove(): void {
      follow("failed");
      if (closed) return;
      written = null;
      try {
        if (reachable()) cmap.deletePrefix(prefix);
      } catch (error) {
        failed(error);
      }
    },
    close(): void {
      if (closed) return;
      closed = true;
      clearInterval(refresh);
      cmap.close();
    },
  };
}
