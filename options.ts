/**
 * Options of {@linkcode initialize} and {@linkcode supervise}.
 *
 * @module
 */

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
   * Keep the next instance's Worker spawned and waiting (from 20 ms after an instance
   * registered), so that a recovery only wakes it and imports the application. Costs one
   * idle Worker: measured 12 to 16 MiB of RSS on Deno 2.9.6 and
   * about 4 MiB on Bun 1.4.5. Without it a recovery also waits for a Worker to spawn
   * (`bare_worker_spawn_ms` in bench/: 13 to 33 ms on Deno, 9 to 16 ms on Bun, on a 2-core machine).
   * @default {true}
   */
  standby?: boolean;
  /**
   * Where `Worker.terminate()` leaves a thread running (Deno 2.7 to 2.9 with a busy loop),
   * start the program again as a new process carrying the stored data, the instance count
   * and the warning signal over, and end this one. Only in the libsam style.
   * @default {true}
   */
  respawnOnStuckThread?: boolean;
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
