// Recovery policy as pure functions of their inputs (the clock is passed in), in the manner of
// Erlang/OTP's supervisor: the engine asks, gets a decision back, and then acts on it.
import { SIGKILL } from "../shared_memory/signals.ts";
import type { SupervisorEnd } from "../events.ts";

/** Why supervision ended. */
export type EndReason = SupervisorEnd["reason"];

/** What the engine knows when an instance has ended. */
export interface EndFacts {
  /** Health checking was started, or the supervisor gave the instance up. */
  checking: boolean;
  /** The instance left the shared header broken. */
  corrupt: boolean;
  /** The instance called markFailed(). */
  markedFailed: boolean;
  /** Supervisor.stop(), SIGINT or SIGTERM asked supervision to end. */
  stopping: boolean;
  /** The policy's action is RESTART. */
  restart: boolean;
  /** A reload's instance runs beside the one that ended (see reload.ts). */
  reloading?: boolean;
}

/** What follows the end of an instance. */
export type EndDecision =
  | { action: "restart" }
  | { action: "take-over" }
  | { action: "finish"; reason: EndReason };

/**
 * What follows the end of an instance, as libsam decides it: an instance that ends while
 * health checking is stopped ends supervision with its code; one that fails is recovered.
 * During a reload the reload's instance takes over at once, whether the one it replaces ended
 * at its warning after the new one started or crashed before.
 */
export function decideAfterEnd(facts: EndFacts): EndDecision {
  if (facts.markedFailed) return { action: "finish", reason: "failed" };
  if (facts.stopping) return { action: "finish", reason: "stopped" };
  if (facts.reloading) return { action: "take-over" };
  if (!facts.checking && !facts.corrupt) return { action: "finish", reason: "exited" };
  return facts.restart ? { action: "restart" } : { action: "finish", reason: "quit" };
}

/** Restart intensity and backoff, as in {@linkcode SamOptions}. */
export interface RestartLimits {
  maxRestarts: number;
  restartWindow: number;
  restartDelay: number;
  restartDelayMax: number;
}

/** The defaults of {@linkcode RestartLimits}: libsam's (no limit, no delay). */
export const DEFAULT_RESTART_LIMITS: RestartLimits = {
  maxRestarts: Infinity,
  restartWindow: 60_000,
  restartDelay: 0,
  restartDelayMax: 30_000,
};

/** The limits `options` set, libsam's where they set none. */
export function restartLimits(options: Partial<RestartLimits>): RestartLimits {
  const d = DEFAULT_RESTART_LIMITS;
  return {
    maxRestarts: options.maxRestarts ?? d.maxRestarts,
    restartWindow: options.restartWindow ?? d.restartWindow,
    restartDelay: options.restartDelay ?? d.restartDelay,
    restartDelayMax: options.restartDelayMax ?? d.restartDelayMax,
  };
}

/** A restart to make after `delay` ms, or none because the limit is reached. */
export type RestartPlan =
  | { action: "restart"; delay: number; history: readonly number[] }
  | { action: "give-up"; recent: number };

/**
 * Whether to restart at `now`, given the times of earlier restarts: at most `maxRestarts`
 * within `restartWindow` ms. `history` of the plan is the new list of restart times.
 */
export function planRestart(
  history: readonly number[],
  now: number,
  limits: RestartLimits,
): RestartPlan {
  const recent = history.filter((t) => now - t < limits.restartWindow);
  if (recent.length >= limits.maxRestarts) return { action: "give-up", recent: recent.length };
  const next = [...recent, now];
  return { action: "restart", delay: backoffDelay(next.length, limits), history: next };
}

/** The delay before the `nth` restart within the window: doubling from `restartDelay`, capped. */
export function backoffDelay(nth: number, limits: RestartLimits): number {
  if (limits.restartDelay === 0) return 0;
  return Math.min(limits.restartDelayMax, limits.restartDelay * 2 ** Math.max(0, nth - 1));
}

/** The exit code supervision ends with: the last instance's, and never 0 after a failure. */
export function endCode(reason: EndReason, lastCode: number): number {
  return reason === "restart-limit" && lastCode === 0 ? 1 : lastCode;
}

/** What to do to an instance that must go: warn it first, or terminate it now. */
export type Escalation = { action: "warn" } | { action: "terminate"; code: number };

/**
 * Warn, wait, kill: how an instance that missed its deadline, is stopped, or lost quorum is
 * treated. It is warned when it listens for its warning signal and there is an interval to
 * wait; otherwise it is terminated at once, with the code a shell reports for a process that
 * dies of that signal (a process without a handler dies of it).
 */
export function escalate(signo: number, listens: boolean, interval: number): Escalation {
  if (signo === SIGKILL || !listens || interval === 0) {
    return { action: "terminate", code: 128 + signo };
  }
  return { action: "warn" };
}
