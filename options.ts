/**
 * Options of {@linkcode initialize} and {@linkcode supervise}.
 *
 * @module
 */
import type { SupervisorEventMap } from "./events.ts";

/**
 * Where quorum comes from under a `QUORUM` policy: an EventTarget with a boolean `quorate`
 * that dispatches `"change"` when it flips.
 */
export interface QuorumSource extends EventTarget {
  /** Whether the cluster is quorate now. */
  readonly quorate: boolean;
}

/** Options of {@linkcode initialize}, used when the main thread becomes the supervisor. */
export interface SamOptions {
  /**
   * The largest stored data in bytes; a larger `dataStore()` is `CS_ERR_NO_MEMORY`.
   * @default {67108864} (64 MiB)
   */
  maxDataSize?: number;
  /**
   * The supervisor's log: one line per recovery step (deadline missed, warning, termination,
   * end with its code, next instance, stuck thread, hand-over, quorum lost or regained, end
   * of supervision), each with the instance id and the reason. `true` writes them to stderr
   * as `sam[<pid>]: ...`; a function gets each line; `false` silences them.
   * @default {true} in the libsam style (`register()` on the main thread), `false` for `supervise()`
   */
  log?: boolean | ((line: string) => void);
  /**
   * Called on the main thread with each of the supervisor's events (see
   * {@linkcode SupervisorEventMap}), before the Supervisor's own listeners: the way a
   * libsam-style program, whose main thread stays in `register()`, hears them.
   */
  onEvent?: (event: SupervisorEventMap[keyof SupervisorEventMap]) => void;
  /**
   * Where quorum comes from under the `QUORUM` flag. Without one, sam asks corosync's own
   * quorum service (libquorum, through FFI), as libsam does, and `initialize()` /
   * `supervise()` throw `CS_ERR_LIBRARY` when it cannot be reached.
   * @default {undefined} (corosync's quorum service)
   */
  quorum?: QuorumSource;
  /**
   * Where the record of the `CMAP` flag must be. `"auto"`: in corosync's cmap when FFI is
   * permitted (on Deno `--allow-ffi`, only queried, never prompted) and corosync answers,
   * in process otherwise (`Supervisor.status`, `stateFile`). `"required"`: in corosync's
   * cmap, or `initialize()` / `supervise()` throw `CS_ERR_LIBRARY`, as libsam's
   * `sam_register` does (an HA deployment). `"off"`: in process only.
   * @default {"auto"}
   */
  corosyncRecord?: "auto" | "required" | "off";
  /**
   * Path of a JSON copy of the `CMAP` flag's record (for machines without corosync),
   * replaced atomically on every change; `last_updated` is CLOCK_MONOTONIC ns there too.
   * @default {undefined} (no file)
   */
  stateFile?: string;
  /**
   * Keep the next instance's Worker spawned and waiting from shortly after an instance
   * registered, so that a recovery only wakes it. Costs one Worker's memory, more with the
   * program loaded ahead (`standby_rss_big_app_bytes` in bench/); without it a recovery also
   * waits for a Worker to spawn (`bare_worker_spawn_ms`).
   * @default {true}
   */
  standby?: boolean;
  /**
   * Let the standby run the application ahead, up to its `register()` (the replay part, whose
   * calls change nothing the supervisor holds), so that a recovery only wakes it there, as a
   * fork would, whatever the program's size. What the pre-run prints comes out at its
   * activation; timers and other side effects of code before `register()` run early. A
   * standby whose pre-run fails, or whose reads of the stored data the data has outdated, is
   * not used (a `standby` event says why), and a program whose pre-run fails once is not run
   * ahead again.
   * @default {true}
   */
  prerun?: boolean;
  /**
   * What the libsam style does where `Worker.terminate()` leaves a thread running (Deno 2.7 to
   * 2.9: a busy loop spins on, an endless `Atomics.wait` sleeps on, and the thread keeps what
   * it holds, such as a listening socket). `"exec"`: the next instance starts in a new image
   * of the same process (execve: same pid, stdio and command line; needs `--allow-ffi` on
   * Deno), carrying the stored data, the instance count, the warning signal and the restart
   * history; where exec is not possible the process ends with code 70, so that its service
   * manager starts it again. `"respawn"`: a new process (a new pid: a service manager or
   * container runtime sees the service end). `"none"`: go on beside the stuck thread.
   * `supervise()` always goes on beside it (the process is not sam's to replace).
   * @default {"exec"}
   */
  handOver?: "exec" | "respawn" | "none";
  /**
   * At most this many restarts within `restartWindow` ms (Erlang/OTP's intensity, systemd's
   * StartLimitBurst); one more ends supervision as failed, with a non-zero exit code.
   * @default {Infinity} (libsam restarts without limit)
   */
  maxRestarts?: number;
  /**
   * The window of `maxRestarts`, in ms.
   * @default {60000}
   */
  restartWindow?: number;
  /**
   * Delay in ms before a restart; it doubles with every further restart within
   * `restartWindow`, up to `restartDelayMax`.
   * @default {0} (libsam restarts at once)
   */
  restartDelay?: number;
  /**
   * The largest restart delay, in ms.
   * @default {30000}
   */
  restartDelayMax?: number;
  /**
   * In the libsam style, the process signal that reloads the program (as
   * {@linkcode Supervisor.reload} does): the next instance starts from the program's files as
   * they are now beside the running one, which gets its warning once the new one called
   * `start()`. `systemctl reload` with `ExecReload=kill -HUP $MAINPID` sends it. `null`: no
   * signal reloads (the signal's default action then applies).
   * @default {"SIGHUP"}
   */
  reloadSignal?: string | null;
  /**
   * How long a reload's instance has to call `start()`, in ms; past it, it is terminated and
   * the reload failed (the running instance goes on).
   * @default {60000}
   */
  reloadTimeout?: number;
}

/** Options of {@linkcode supervise}: authoritative for the instances. */
export interface SuperviseOptions extends SamOptions {
  /** Health-check deadline in ms; 0 = no time limit. */
  timeInterval: number;
  /** A {@linkcode RecoveryPolicy}. */
  recoveryPolicy: number;
  /** Bytes the first instance restores. */
  data?: Uint8Array;
  /**
   * The warning signal name.
   * @default {"SIGTERM"}
   */
  warnSignal?: string;
}
