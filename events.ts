/**
 * What a {@linkcode Supervisor} reports: its status, how supervision ended, and its events.
 *
 * @module
 */

/** libsam's state values, as published in its cmap record. */
export type SupervisorState = "stopped" | "running" | "failed" | "waiting for quorum";

/** What {@linkcode Supervisor.status} reports: libsam's cmap record, plus sam's counters. */
export interface SupervisorStatus {
  /** Id of the current (or last) instance; 0 before the first. */
  instanceId: number;
  /** libsam's state: `running` while health checking is started. */
  state: SupervisorState;
  /** `quit` or `restart`. */
  recovery: "quit" | "restart";
  /** The time interval in ms (libsam's `poll_period`). */
  pollPeriod: number;
  /** CLOCK_MONOTONIC ns of the last health check, as libsam's `last_updated`; 0 before any. */
  lastUpdated: number;
  /** `pollPeriod` under libsam's cmap key name. */
  poll_period: number;
  /** `lastUpdated` under libsam's cmap key name. */
  last_updated: number;
  /** How many instances were started after the first. */
  restarts: number;
  /** Terminated instances whose thread the runtime did not stop. */
  stuckThreads: number;
}

/** How supervision ended. */
export interface SupervisorEnd {
  /** The exit code: the last instance's (at least 1 for `restart-limit`). */
  code: number;
  /**
   * `exited`: an instance ended with health checking stopped; `quit`: recovery under the
   * quit policy; `failed`: `markFailed()`, or no Worker could be started; `restart-limit`:
   * more restarts than `maxRestarts`; `stopped`: {@linkcode Supervisor.stop}; `respawned`:
   * handed over to a new process (`handOver: "respawn"`); `stuck-thread`: a terminated
   * instance's thread stayed and could not be left behind by a hand-over (code 70).
   */
  reason:
    | "exited"
    | "quit"
    | "failed"
    | "restart-limit"
    | "stopped"
    | "respawned"
    | "stuck-thread";
}

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

/** The `detail` of each event a {@linkcode Supervisor} dispatches, by event type. */
export interface SupervisorEventDetails {
  /** An instance is about to start. */
  instance: { id: number };
  /** Its `register()` returned. */
  registered: { id: number };
  /** An instance after the first started. */
  restart: { id: number };
  /** A health check did not come in time. */
  late: { id: number };
  /** The warning signal went to the instance's listeners. */
  warning: { id: number; signal: string };
  /** The supervisor terminated the instance, with the exit code it ends with. */
  terminated: { id: number; code: number };
  /** The instance ended, with its exit code. */
  exit: { id: number; code: number };
  /** A terminated instance's thread went away. */
  "thread-stopped": { id: number; threadId: number };
  /** A terminated instance's thread is still there, spinning or asleep. */
  "stuck-thread": { id: number; threadId: number; spinning: boolean };
  /** Supervision goes on in a new image of the process; `id` is the instance it starts. */
  handover: { id: number; kind: string };
  /**
   * The standby was not used for instance `id`, which starts in a fresh Worker: its pre-run
   * of the application failed (it threw, ended, or ended without calling register()), it
   * read the stored data before its activation and the data changed since, or it ended.
   */
  standby: { id: number; reason: "prerun-failed" | "stale-read" | "ended" };
  /** The instance left the shared header broken: the stored data is gone. */
  corrupt: { id: number };
  /** The quorum flipped. */
  quorum: { quorate: boolean };
  /**
   * A reload: `begun` when instance `id` starts beside instance `replaced`; `took-over` when
   * `replaced` ended and `id` serves; `failed` when `id` ended before it took over (`reason`,
   * and `code` when it ended by itself), `replaced` serving on.
   */
  reload: {
    id: number;
    replaced: number;
    outcome: "begun" | "took-over" | "failed";
    reason?: ReloadFailure;
    code?: number;
  };
  /** libsam's record changed (state, recovery or instance; not each `last_updated`). */
  status: { status: SupervisorStatus };
  /** Supervision ended. */
  end: SupervisorEnd;
}

/** The events of a {@linkcode Supervisor}, as `CustomEvent`s with a typed `detail`. */
export type SupervisorEventMap = {
  [K in keyof SupervisorEventDetails]: CustomEvent<SupervisorEventDetails[K]>;
};
