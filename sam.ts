/**
 * The libsam-style calls: a program supervises itself. Each function is libsam's `sam_*`
 * call with the same states and error codes; see the contract in README.md. The data calls
 * are in data.ts, the signal listeners in signal_listeners.ts.
 *
 * @module
 */
import {
  handle,
  type HealthCheckCallback,
  IN_USE,
  ONLY_INITIALIZED,
  ONLY_NOT_INITIALIZED,
  ONLY_REGISTERED,
  ONLY_STARTED,
  REGISTERED_OR_STARTED,
} from "./instance/handle.ts";
import { DataRegion, DEFAULT_MAX_DATA_SIZE } from "./shared_memory/region.ts";
import { describe } from "./shared_memory/bytes.ts";
import { runtime } from "./platform/runtime.ts";
import { signalNumber, SIGTERM } from "./shared_memory/signals.ts";
import { checkOptions, checkPolicy, checkTimeInterval } from "./shared_memory/validate.ts";
import { connectCluster, needsCorosync } from "./corosync/connect.ts";
import { CsError, SamError } from "./errors.ts";
import { RecoveryPolicy } from "./policy.ts";
import type { SamOptions } from "./options.ts";

export type { HealthCheckCallback } from "./instance/handle.ts";

/**
 * Prepares sam (libsam's `sam_initialize`). Call it once, before {@linkcode register}.
 *
 * @param interval Health-check deadline in ms: each `hcSend()` must come within this time of
 *   the previous one; `0` means no time limit (only the end of the instance is watched).
 * @param policy A {@linkcode RecoveryPolicy}: `QUIT` or `RESTART`, optionally `| QUORUM`, `| CMAP`.
 * @param options Limits and extras; see {@linkcode SamOptions}.
 * @throws {SamError} `CS_ERR_BAD_HANDLE` when already initialized; `CS_ERR_INVALID_PARAM` for a
 *   negative, non-finite or too large interval, an unknown policy or bad options;
 *   `CS_ERR_LIBRARY` when corosync cannot be reached (or FFI is not permitted) for a `QUORUM`
 *   policy without `options.quorum`, or for a `CMAP` record with `corosyncRecord: "required"`.
 *
 * @example Restart the program when it stops answering for a second
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * sam.initialize(1000, sam.RecoveryPolicy.RESTART);
 * ```
 */
export function initialize(interval: number, policy: RecoveryPolicy, options?: SamOptions): void {
  handle.require("initialize()", ONLY_NOT_INITIALIZED);
  checkTimeInterval(interval);
  const opts = checkOptions(options, checkPolicy(policy));
  const context = handle.context;
  if (context === undefined) {
    // As libsam's sam_initialize connects to quorum; an instance's initialize() is a replay.
    const cluster = connectCluster(policy, opts);
    const region = DataRegion.create(opts.maxDataSize ?? DEFAULT_MAX_DATA_SIZE);
    return handle.initialize(interval, policy, opts, { region, warnSignal: SIGTERM, cluster });
  }
  if (
    needsCorosync(policy, opts) &&
    (interval !== context.timeInterval || policy !== context.recoveryPolicy)
  ) {
    // A replay: the main thread got past its checks with other arguments than the call that
    // initialized it, so corosync could not be reached for this one.
    throw new SamError(CsError.CS_ERR_LIBRARY, "corosync could not be reached (a replay)");
  }
  handle.initialize(context.timeInterval, context.recoveryPolicy, opts, null);
}

/**
 * Starts supervision (libsam's `sam_register`). On the main thread it makes this thread the
 * supervisor: it runs the program's main module again in a Worker as instance 1, 2, ... and
 * never resolves; the process exits with the last instance's exit code when the policy says
 * quit. In an instance it resolves with the instance id, and from then on calls act for real.
 *
 * @returns The instance id (1 for the first instance).
 * @throws {SamError} `CS_ERR_BAD_HANDLE` unless initialized and not yet registered.
 *
 * @example The libsam style
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * sam.initialize(1000, sam.RecoveryPolicy.RESTART);
 * const iid = await sam.register(); // the main thread stays here, supervising
 * console.log(`instance ${iid} restores`, sam.dataRestore());
 * ```
 */
export function register(): Promise<number> {
  try {
    handle.require("register()", ONLY_INITIALIZED);
  } catch (e) {
    return Promise.reject(e);
  }
  const context = handle.context;
  if (context !== undefined) return handle.registerInstance(context);
  const module = runtime.mainModule();
  if (module === undefined) {
    return Promise.reject(
      new SamError(CsError.CS_ERR_LIBRARY, "register() found no main module to run as an instance"),
    );
  }
  const { options, interval, policy, region, warnSignal, cluster } = handle.registerMain();
  const authoritative = { ...options, timeInterval: interval, recoveryPolicy: policy };
  // Loaded here only: an instance never loads the supervisor.
  void import("./supervisor/main_thread.ts").then(({ superviseMainThread }) =>
    superviseMainThread(module, authoritative, region, warnSignal, cluster)
  );
  return new Promise<number>(() => {});
}

/**
 * Starts health checking (libsam's `sam_start`). From now on `hcSend()` must come within the
 * time interval, and the end of the instance means recovery.
 *
 * @throws {SamError} `CS_ERR_BAD_HANDLE` unless registered and not started.
 *
 * @example
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * sam.initialize(500, sam.RecoveryPolicy.RESTART);
 * await sam.register();
 * await sam.start();
 * setInterval(() => sam.hcSend(), 100);
 * ```
 */
export function start(): Promise<void> {
  try {
    handle.require("start()", ONLY_REGISTERED);
  } catch (e) {
    return Promise.reject(e);
  }
  return handle.start(handle.context!.block);
}

/**
 * Stops health checking (libsam's `sam_stop`). An instance that ends while stopped ends
 * supervision with its exit code.
 *
 * @throws {SamError} `CS_ERR_BAD_HANDLE` unless started.
 *
 * @example
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * sam.initialize(500, sam.RecoveryPolicy.RESTART);
 * await sam.register();
 * await sam.start();
 * sam.stop(); // a long pause that is not a hang
 * ```
 */
export function stop(): void {
  handle.require("stop()", ONLY_STARTED);
  // As in libsam, the state record says "stopped" once stop() returns.
  handle.stop(handle.context!.block);
}

/**
 * Sends a health check (libsam's `sam_hc_send`): one write to shared memory.
 *
 * @throws {SamError} `CS_ERR_BAD_HANDLE` unless started.
 *
 * @example
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * setInterval(() => sam.hcSend(), 100);
 * ```
 */
export function hcSend(): void {
  handle.hcSend();
}

/**
 * Lets the instance answer health checks from a callback (libsam's `sam_hc_callback_register`):
 * after `start()`, sam sends a health check every `timeInterval / 4` ms and calls `cb` every
 * `timeInterval` ms. The first unhealthy answer (anything but `0` or `true`, a throw or a
 * rejection) stops the checks, so recovery follows. `null` goes back to `hcSend()`.
 *
 * @param cb The callback, or null.
 * @throws {SamError} `CS_ERR_BAD_HANDLE` unless registered and not started;
 *   `CS_ERR_INVALID_PARAM` with time interval 0, for `null` before any callback, or a non-function.
 *
 * @example
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * sam.initialize(1000, sam.RecoveryPolicy.RESTART);
 * await sam.register();
 * sam.hcCallbackRegister(() => (queueIsMoving() ? 0 : 1));
 * await sam.start();
 * declare function queueIsMoving(): boolean;
 * ```
 */
export function hcCallbackRegister(cb: HealthCheckCallback | null): void {
  handle.require("hcCallbackRegister()", ONLY_REGISTERED);
  if (handle.timeInterval === 0) {
    throw new SamError(
      CsError.CS_ERR_INVALID_PARAM,
      "hcCallbackRegister() needs a time interval above 0, not 0",
    );
  }
  if (cb !== null && typeof cb !== "function") {
    throw new SamError(
      CsError.CS_ERR_INVALID_PARAM,
      `cb must be a function or null, not ${describe(cb)}`,
    );
  }
  if (cb === null && handle.hcCallback === null) {
    throw new SamError(
      CsError.CS_ERR_INVALID_PARAM,
      "hcCallbackRegister(null) with no callback registered",
    );
  }
  handle.hcCallback = cb;
}

/**
 * Sets the signal the instance is warned with before it is terminated (libsam's
 * `sam_warn_signal_set`); it stays for later instances. `"SIGKILL"` means no warning.
 *
 * @param signal A signal name such as `"SIGTERM"` (the default), `"SIGUSR1"` or `"SIGKILL"`.
 * @throws {SamError} `CS_ERR_BAD_HANDLE` unless initialized; `CS_ERR_INVALID_PARAM` for an unknown name.
 *
 * @example
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * sam.warnSignalSet("SIGUSR1");
 * sam.addSignalListener("SIGUSR1", () => sam.dataStore(new Uint8Array([1])));
 * ```
 */
export function warnSignalSet(signal: string): void {
  handle.require("warnSignalSet()", IN_USE);
  const signo = signalNumber(signal);
  if (signo === 0) {
    throw new SamError(
      CsError.CS_ERR_INVALID_PARAM,
      `signal must be a signal name such as "SIGTERM", not ${describe(signal)}`,
    );
  }
  handle.setWarnSignal(signo);
}

/**
 * Marks the instance failed (libsam's `sam_mark_failed`): it is terminated without a warning,
 * the policy switches to quit and the state record says `failed`. Needs the `CMAP` flag.
 *
 * @throws {SamError} `CS_ERR_BAD_HANDLE` unless registered; `CS_ERR_INVALID_PARAM` without `CMAP`.
 *
 * @example
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * sam.initialize(1000, sam.RecoveryPolicy.RESTART | sam.RecoveryPolicy.CMAP);
 * await sam.register();
 * sam.markFailed(); // configuration is broken: restarting would not help
 * ```
 */
export function markFailed(): void {
  handle.require("markFailed()", REGISTERED_OR_STARTED);
  if ((handle.recoveryPolicy & RecoveryPolicy.CMAP) === 0) {
    throw new SamError(
      CsError.CS_ERR_INVALID_PARAM,
      `markFailed() needs the CMAP flag in recoveryPolicy ${handle.recoveryPolicy}`,
    );
  }
  // The supervisor wakes, terminates this instance and switches the policy to quit.
  handle.markFailed(handle.context!.block);
}

/**
 * Ends sam's use (libsam's `sam_finalize`); stops health checking first when started.
 * Nothing but reading works afterwards.
 *
 * @throws {SamError} `CS_ERR_BAD_HANDLE` unless initialized and not finalized.
 *
 * @example
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * sam.finalize();
 * ```
 */
export function finalize(): void {
  handle.require("finalize()", IN_USE);
  handle.finalize();
}
