// Reload as pure functions: whether one may begin, and what follows when either instance of the
// overlap ends. The engine asks, gets a decision back, and acts on it.
import type { EndReason } from "../_recovery.ts";

/** Why a reload did not end with the new instance serving. */
export type ReloadFailure =
  | "not-running"
  | "in-progress"
  | "stopping"
  | "no-worker"
  | "ended"
  | "timeout"
  | "stopped";

/**
 * What {@linkcode Supervisor.reload} resolves with: whether the new instance took over.
 * `reloaded: true`: instance `id` serves and instance `replaced` has ended. `reloaded: false`:
 * the instance that served before still does (unless supervision ended meanwhile); `id` is the
 * new instance that failed (null when none was started), `reason` says why, and `code` is its
 * exit code when it ended by itself before its `start()`.
 */
export type ReloadResult =
  | { reloaded: true; id: number; replaced: number }
  | { reloaded: false; id: number | null; reason: ReloadFailure; code?: number };

/** What the engine knows when a reload is asked for. */
export interface ReloadGateFacts {
  /** Supervision runs an instance (not between instances, handing over or ended). */
  running: boolean;
  /** Supervisor.stop(), SIGINT or SIGTERM asked supervision to end. */
  stopping: boolean;
  /** A reload is under way. */
  reloading: boolean;
}

/** Whether a reload may begin: only with an instance running, and one reload at a time. */
export function reloadGate(
  facts: ReloadGateFacts,
): { action: "begin" } | { action: "refuse"; reason: ReloadFailure } {
  if (facts.stopping) return { action: "refuse", reason: "stopping" };
  if (!facts.running) return { action: "refuse", reason: "not-running" };
  if (facts.reloading) return { action: "refuse", reason: "in-progress" };
  return { action: "begin" };
}

/**
 * The reload's instance ended before it took over: the reload failed. It ended by itself (a
 * throw, an exit, a syntax error in the new code), or the supervisor ended it (no `start()`
 * within the reload timeout, or supervision stopping).
 */
export function incomingFailure(
  by: "itself" | "supervisor",
  cause: "timeout" | "stop" | "other",
): ReloadFailure {
  if (by === "itself") return "ended";
  return cause === "timeout" ? "timeout" : "stopped";
}

/** What follows the end of the serving instance while a reload's instance is there. */
export type OverlapDecision =
  | { action: "take-over" }
  | { action: "finish"; reason: EndReason };

/**
 * The serving instance ended while a reload's instance runs: at its warning after the new one
 * started, or by itself (a crash) before. Either way the new one takes over at once, unless
 * supervision is to end.
 */
export function decideOverlapEnd(facts: {
  markedFailed: boolean;
  stopping: boolean;
}): OverlapDecision {
  if (facts.markedFailed) return { action: "finish", reason: "failed" };
  if (facts.stopping) return { action: "finish", reason: "stopped" };
  return { action: "take-over" };
}
