// What sam tells systemd, as pure functions of the supervisor's events: which notify message
// each one gives (sd_notify(3)'s assignments) and the state that decides it. The clock is
// passed in.
import type { SupervisorEnd, SupervisorEventDetails } from "../events.ts";

/** What has been told so far. */
export interface NotifyState {
  /** READY=1 went out once. */
  ready: boolean;
  /** A reload is under way (RELOADING=1 went out). */
  reloading: boolean;
  /** STOPPING=1 went out. */
  stopping: boolean;
}

/** The state before anything was told. */
export const INITIAL_NOTIFY_STATE: NotifyState = {
  ready: false,
  reloading: false,
  stopping: false,
};

/** A step: the message to send (null: none) and the state after it. */
export interface NotifyStep {
  message: string | null;
  state: NotifyState;
}

type Details = SupervisorEventDetails;

/**
 * The message for a supervisor event. READY=1 once the first instance started (libsam's
 * `running`); RELOADING=1 with MONOTONIC_USEC= when a reload begins and READY=1 when it ends
 * either way; STATUS= with the instance and its state at each change.
 */
export function notifyForEvent<K extends keyof Details>(
  state: NotifyState,
  type: K,
  detail: Details[K],
  monotonicUsec: number,
): NotifyStep {
  if (state.stopping) return { message: null, state };
  if (type === "status") {
    const { status } = detail as Details["status"];
    const text = `STATUS=instance ${status.instanceId} ${status.state}`;
    if (!state.ready && status.state === "running") {
      return { message: `READY=1\n${text}`, state: { ...state, ready: true } };
    }
    // The status during a reload is the serving instance's; RELOADING's line says more.
    return { message: state.reloading ? null : text, state };
  }
  if (type === "reload") {
    const d = detail as Details["reload"];
    if (d.outcome === "begun") {
      const message = `RELOADING=1\nMONOTONIC_USEC=${Math.round(monotonicUsec)}\n` +
        `STATUS=reloading: instance ${d.id} starts beside instance ${d.replaced}`;
      return { message, state: { ...state, reloading: true } };
    }
    const status = d.outcome === "took-over"
      ? `STATUS=instance ${d.id} running (reloaded)`
      : `STATUS=instance ${d.replaced} running (reload failed: instance ${d.id} ${d.reason})`;
    return { message: `READY=1\n${status}`, state: { ...state, ready: true, reloading: false } };
  }
  return { message: null, state };
}

/** STOPPING=1 when supervision is asked to end (or ends), once. */
export function notifyStopping(state: NotifyState, why: string): NotifyStep {
  if (state.stopping) return { message: null, state };
  return { message: `STOPPING=1\nSTATUS=stopping (${why})`, state: { ...state, stopping: true } };
}

/** The last word: how supervision ended. */
export function notifyEnd(state: NotifyState, end: SupervisorEnd): NotifyStep {
  const last = `STATUS=ended (${end.reason}), code ${end.code}`;
  const stop = notifyStopping(state, end.reason);
  return { message: stop.message === null ? last : `STOPPING=1\n${last}`, state: stop.state };
}

/**
 * How often WATCHDOG=1 goes out: half of $WATCHDOG_USEC (in ms), when it is set and
 * $WATCHDOG_PID, if set, is this process; null otherwise.
 */
export function watchdogInterval(
  env: Readonly<Record<string, string | undefined>>,
  pid: number,
): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isSafeInteger(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return null;
  return Math.max(1, usec / 2000);
}
