/**
 * The libsam-style API: a program supervises itself. Each function is libsam's `sam_*`
 * call with the same states and error codes; see the contract in README.md.
 *
 * @module
 */
import { instanceContext } from "./_context.ts";
import {
  FLAG_MARK_FAILED,
  HC_STARTED,
  HC_STOPPED,
  HC_WAITING_QUORUM,
  INST_ACK,
  INST_BYTES,
  INST_EVENT_SEQ,
  INST_FLAGS,
  INST_HC_COUNT,
  INST_HC_STATE,
  INST_HC_WANT,
  INST_LISTENERS,
  INST_QUORATE,
  INST_REGISTERED,
  INST_WARN_SIGNAL,
  SLOT_GROW_STEP,
  SUPERVISOR_HOLDER,
} from "./_layout.ts";
import {
  DataRegion,
  DEFAULT_MAX_DATA_SIZE,
  describe,
  type StorableData,
  toBytes,
} from "./_region.ts";
import { runtime } from "./_runtime.ts";
import { SIGKILL, signalNumber, SIGTERM } from "./_signals.ts";
import { CsError, SamError } from "./errors.ts";
import { RecoveryPolicy } from "./policy.ts";
import { checkOptions, checkPolicy, checkTimeInterval } from "./_validate.ts";
import { Supervisor } from "./supervisor.ts";
import type { SamOptions } from "./options.ts";

const State = {
  NOT_INITIALIZED: "not initialized",
  INITIALIZED: "initialized",
  REGISTERED: "registered",
  STARTED: "started",
  FINALIZED: "finalized",
} as const;
type State = typeof State[keyof typeof State];

let state: State = State.NOT_INITIALIZED;
let timeInterval = 0;
let recoveryPolicy = 0;
let samOptions: SamOptions = {};
/** The main thread's region, before register() hands it to the supervisor. */
let mainRegion: DataRegion | undefined;
let mainWarnSignal = SIGTERM;
let hcCallback: HealthCheckCallback | null = null;
/** The instance block once started, kept at hand for hcSend(). */
let hcBlock: Int32Array | undefined;
let hcTimers: ReturnType<typeof setInterval>[] = [];

/** A health-check callback: healthy is `0` or `true`; anything else, a throw or a rejection is not. */
export type HealthCheckCallback = () => number | boolean | Promise<number | boolean>;

/** libsam's "in use" states: initialized, and not yet finalized. */
const IN_USE: readonly State[] = [State.INITIALIZED, State.REGISTERED, State.STARTED];
const ONLY_NOT_INITIALIZED: readonly State[] = [State.NOT_INITIALIZED];
const ONLY_INITIALIZED: readonly State[] = [State.INITIALIZED];
const ONLY_REGISTERED: readonly State[] = [State.REGISTERED];
const ONLY_STARTED: readonly State[] = [State.STARTED];
const REGISTERED_OR_STARTED: readonly State[] = [State.REGISTERED, State.STARTED];

// The allowed states come as constant arrays: dataStore() and friends call this every time,
// so it allocates nothing.
function requireState(call: string, allowed: readonly State[]): void {
  if (!allowed.includes(state)) {
    throw new SamError(
      CsError.CS_ERR_BAD_HANDLE,
      `${call} needs state ${allowed.join(" or ")}, not ${state}`,
    );
  }
}

/** In an instance: whether calls act for real (after register()) rather than replay. */
function acting(): boolean {
  return state === State.REGISTERED || state === State.STARTED;
}

/**
 * Prepares sam (libsam's `sam_initialize`). Call it once, before {@linkcode register}.
 *
 * @param interval Health-check deadline in ms: each `hcSend()` must come within this time of
 *   the previous one; `0` means no time limit (only the end of the instance is watched).
 * @param policy A {@linkcode RecoveryPolicy}: `QUIT` or `RESTART`, optionally `| QUORUM`, `| CMAP`.
 * @param options Limits and extras; see {@linkcode SamOptions}.
 * @throws {SamError} `CS_ERR_BAD_HANDLE` when already initialized; `CS_ERR_INVALID_PARAM` for a
 *   negative, non-finite or too large interval, an unknown policy or bad options.
 *
 * @example Restart the program when it stops answering for a second
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * sam.initialize(1000, sam.RecoveryPolicy.RESTART);
 * ```
 */
export function initialize(interval: number, policy: RecoveryPolicy, options?: SamOptions): void {
  requireState("initialize()", ONLY_NOT_INITIALIZED);
  checkTimeInterval(interval);
  const opts = checkOptions(options, checkPolicy(policy));
  const context = instanceContext();
  if (context === undefined) {
    mainRegion = DataRegion.create(opts.maxDataSize ?? DEFAULT_MAX_DATA_SIZE);
  }
  timeInterval = context?.timeInterval ?? interval;
  recoveryPolicy = context?.recoveryPolicy ?? policy;
  samOptions = opts;
  mainWarnSignal = SIGTERM;
  state = State.INITIALIZED;
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
    requireState("register()", ONLY_INITIALIZED);
  } catch (e) {
    return Promise.reject(e);
  }
  const context = instanceContext();
  if (context !== undefined) {
    state = State.REGISTERED;
    publish(context.block, INST_REGISTERED, 1);
    return Promise.resolve(context.id);
  }
  const module = runtime.mainModule();
  if (module === undefined) {
    return Promise.reject(
      new SamError(CsError.CS_ERR_LIBRARY, "register() found no main module to run as an instance"),
    );
  }
  state = State.REGISTERED;
  const supervisor = Supervisor._fromMainThread(
    module,
    {
      ...samOptions,
      timeInterval,
      recoveryPolicy,
    },
    mainRegion!,
    mainWarnSignal,
  );
  // SIGINT or SIGTERM to the process stops supervision the graceful way; the process then
  // exits as a shell reports a signalled process.
  let signalled = 0;
  for (const name of ["SIGINT", "SIGTERM"]) {
    runtime.addProcessSignalListener(name, () => {
      signalled ||= signalNumber(name);
      void supervisor.stop();
    });
  }
  supervisor.done.then((end) => runtime.exit(signalled ? 128 + signalled : end.code));
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
    requireState("start()", ONLY_REGISTERED);
    if (starting) {
      throw new SamError(CsError.CS_ERR_BAD_HANDLE, "start() is already waiting for quorum");
    }
  } catch (e) {
    return Promise.reject(e);
  }
  starting = true;
  return startHealthChecks(instanceContext()!.block).finally(() => starting = false);
}

let starting = false;

async function startHealthChecks(block: Int32Array): Promise<void> {
  // Bun does not count a pending waitAsync as work, and would end the instance as idle.
  const keepAlive = setInterval(() => {}, 2 ** 30);
  try {
    if ((recoveryPolicy & RecoveryPolicy.QUORUM) && Atomics.load(block, INST_QUORATE) !== 1) {
      // libsam's sam_start blocks until quorate; here the wait is asynchronous.
      publish(block, INST_HC_STATE, HC_WAITING_QUORUM);
      await waitUntil(block, INST_QUORATE, (quorate) => quorate === 1);
    }
    Atomics.add(block, INST_HC_COUNT, 1); // start() counts as a health check
    const seq = publish(block, INST_HC_STATE, HC_STARTED);
    hcBlock = block;
    state = State.STARTED;
    if (hcCallback !== null) startCallbackChecks(block);
    // As in libsam, the state record says "running" once start() returns.
    if (recoveryPolicy & RecoveryPolicy.CMAP) {
      await waitUntil(block, INST_ACK, (ack) => ack - seq >= 0);
    }
  } finally {
    clearInterval(keepAlive);
  }
}

/** Waits without blocking the instance's event loop until `ready(block[index])`. */
async function waitUntil(block: Int32Array, index: number, ready: (value: number) => boolean) {
  for (;;) {
    const value = Atomics.load(block, index);
    if (ready(value)) return;
    // With a timeout, so that even a lost wake-up only costs time.
    const result = Atomics.waitAsync(block, index, value, 100);
    // "ok", "not-equal" or "timed-out": the loop reads the word again either way.
    if (result.async) await result.value;
  }
}

/**
 * Blocks the instance thread (never the main thread: stop() only works in an instance) until
 * the supervisor acknowledged `seq`, for at most ACK_WAIT_MS.
 */
function waitForAck(block: Int32Array, seq: number): void {
  const until = performance.now() + ACK_WAIT_MS;
  for (;;) {
    const ack = Atomics.load(block, INST_ACK);
    const left = until - performance.now();
    if (ack - seq >= 0 || left <= 0) return;
    const result = Atomics.wait(block, INST_ACK, ack, left);
    if (result !== "ok" && result !== "not-equal" && result !== "timed-out") return;
  }
}

/** How long stop() waits for the supervisor to publish the state record. */
const ACK_WAIT_MS = 1000;

/**
 * Writes a word of the instance block, then publishes the change (Atomics.add on the
 * sequence word) and wakes the supervisor waiting on it (Atomics.notify).
 */
function publish(block: Int32Array, index: number, value: number): number {
  Atomics.store(block, index, value);
  const seq = (Atomics.add(block, INST_EVENT_SEQ, 1) + 1) | 0;
  Atomics.notify(block, INST_EVENT_SEQ);
  return seq;
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
  requireState("stop()", ONLY_STARTED);
  stopCallbackChecks();
  const block = instanceContext()!.block;
  const seq = publish(block, INST_HC_STATE, HC_STOPPED);
  state = State.REGISTERED;
  // As in libsam, the state record says "stopped" once stop() returns.
  if (recoveryPolicy & RecoveryPolicy.CMAP) waitForAck(block, seq);
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
  if (state !== State.STARTED) requireState("hcSend()", ONLY_STARTED);
  sendHealthCheck(hcBlock!);
}

/**
 * One health check: count it, and wake the supervisor only when it asked to be woken. No
 * clock is read here (a clock costs more than the rest); the supervisor times the wake.
 */
function sendHealthCheck(block: Int32Array): void {
  Atomics.add(block, INST_HC_COUNT, 1);
  if (Atomics.load(block, INST_HC_WANT) !== 0) {
    // Published by the add above; clear the request, then wake the supervisor.
    Atomics.store(block, INST_HC_WANT, 0);
    Atomics.notify(block, INST_HC_COUNT);
  }
}

function startCallbackChecks(block: Int32Array): void {
  const send = () => sendHealthCheck(block);
  const ask = async () => {
    const cb = hcCallback;
    if (cb === null) return;
    let healthy = false;
    try {
      const answer = await cb();
      healthy = answer === 0 || answer === true;
    } catch {
      healthy = false;
    }
    // The first unhealthy answer stops the checks, so that the deadline passes and recovery follows.
    if (!healthy && Atomics.load(block, INST_HC_STATE) === HC_STARTED) stopCallbackChecks();
  };
  const quarter = Math.max(1, timeInterval / 4);
  hcTimers = [setInterval(send, quarter), setInterval(ask, Math.max(1, timeInterval))];
}

function stopCallbackChecks(): void {
  for (const t of hcTimers) clearInterval(t);
  hcTimers = [];
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
  requireState("hcCallbackRegister()", ONLY_REGISTERED);
  if (timeInterval === 0) {
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
  if (cb === null && hcCallback === null) {
    throw new SamError(
      CsError.CS_ERR_INVALID_PARAM,
      "hcCallbackRegister(null) with no callback registered",
    );
  }
  hcCallback = cb;
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
  requireState("warnSignalSet()", IN_USE);
  const signo = signalNumber(signal);
  if (signo === 0) {
    throw new SamError(
      CsError.CS_ERR_INVALID_PARAM,
      `signal must be a signal name such as "SIGTERM", not ${describe(signal)}`,
    );
  }
  const context = instanceContext();
  if (context === undefined) mainWarnSignal = signo;
  else if (acting()) Atomics.store(context.block, INST_WARN_SIGNAL, signo);
}

function listenableSignal(signal: unknown, fn: unknown): number {
  const signo = signalNumber(signal);
  if (signo === 0 || signo === SIGKILL || signal === "SIGSTOP") {
    throw new SamError(
      CsError.CS_ERR_INVALID_PARAM,
      `signal must be a name of a signal that can be caught, not ${describe(signal)}`,
    );
  }
  if (typeof fn !== "function") {
    throw new SamError(CsError.CS_ERR_INVALID_PARAM, `fn must be a function, not ${describe(fn)}`);
  }
  return signo;
}

/**
 * Listens for a signal: in an instance, the supervisor's warning (what `signal(3)` is to a
 * libsam child); on the main thread outside supervision, the real process signal.
 *
 * @param signal A signal name such as `"SIGTERM"`.
 * @param fn Called when the signal arrives.
 * @throws {SamError} `CS_ERR_INVALID_PARAM` for an unknown or uncatchable signal or a non-function.
 *
 * @example Save state when warned
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * sam.addSignalListener("SIGTERM", () => sam.dataStore(new TextEncoder().encode("bye")));
 * ```
 */
export function addSignalListener(signal: string, fn: () => void): void {
  const signo = listenableSignal(signal, fn);
  const context = instanceContext();
  if (context === undefined) return runtime.addProcessSignalListener(signal, fn);
  let set = context.signalListeners.get(signo);
  if (set === undefined) context.signalListeners.set(signo, set = new Set());
  set.add(fn);
  Atomics.or(context.block, INST_LISTENERS, 1 << signo);
}

/**
 * Stops listening for a signal added with {@linkcode addSignalListener}.
 *
 * @param signal The signal name.
 * @param fn The listener that was added.
 * @throws {SamError} `CS_ERR_INVALID_PARAM` for an unknown or uncatchable signal or a non-function.
 *
 * @example
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * const onWarn = () => {};
 * sam.addSignalListener("SIGTERM", onWarn);
 * sam.removeSignalListener("SIGTERM", onWarn);
 * ```
 */
export function removeSignalListener(signal: string, fn: () => void): void {
  const signo = listenableSignal(signal, fn);
  const context = instanceContext();
  if (context === undefined) return runtime.removeProcessSignalListener(signal, fn);
  const set = context.signalListeners.get(signo);
  if (set === undefined || !set.delete(fn) || set.size > 0) return;
  context.signalListeners.delete(signo);
  Atomics.and(context.block, INST_LISTENERS, ~(1 << signo));
}

/**
 * Stores bytes that survive into the next instance (libsam's `sam_data_store`): a
 * lock-protected copy into shared memory. A store cut off at any point leaves the previous
 * value whole. `null` deletes. In an instance before `register()` it is a replay: checked,
 * but nothing is stored.
 *
 * @param data The bytes, or null to delete.
 * @throws {SamError} `CS_ERR_BAD_HANDLE` unless initialized; `CS_ERR_INVALID_PARAM` when
 *   `data` is not bytes; `CS_ERR_NO_MEMORY` when larger than `maxDataSize`.
 *
 * @example
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * sam.dataStore(new TextEncoder().encode(JSON.stringify({ count: 42 })));
 * ```
 */
export function dataStore(data: StorableData): void {
  requireState("dataStore()", IN_USE);
  const bytes = data === null ? null : toBytes(data);
  const context = instanceContext();
  if (context === undefined) return mainRegion!.store(SUPERVISOR_HOLDER, bytes, false);
  // Before register() a replay: checked, but nothing is stored.
  if (!acting()) return context.region.checkFits(bytes);
  context.region.store(context.id, bytes);
}

/**
 * The size in bytes of the stored data (libsam's `sam_data_getsize`).
 *
 * @returns The number of bytes stored; 0 when nothing is.
 * @throws {SamError} `CS_ERR_BAD_HANDLE` unless initialized.
 *
 * @example
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * const buffer = new Uint8Array(sam.dataGetsize());
 * ```
 */
export function dataGetsize(): number {
  requireState("dataGetsize()", IN_USE);
  const context = instanceContext();
  return context === undefined
    ? mainRegion!.size(SUPERVISOR_HOLDER, false)
    : context.region.size(context.id);
}

/**
 * Copies the stored data out (libsam's `sam_data_restore`).
 *
 * @param into Where to copy; must hold at least `dataGetsize()` bytes. A new array when omitted.
 * @returns Exactly the stored bytes: a view of `into` when given.
 * @throws {SamError} `CS_ERR_INVALID_PARAM` when `into` is not a Uint8Array or too small;
 *   `CS_ERR_BAD_HANDLE` unless initialized.
 *
 * @example
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * const saved = sam.dataRestore();
 * const state = saved.length ? JSON.parse(new TextDecoder().decode(saved)) : { count: 0 };
 * ```
 */
export function dataRestore(into?: Uint8Array): Uint8Array {
  if (into !== undefined && !(into instanceof Uint8Array)) {
    throw new SamError(
      CsError.CS_ERR_INVALID_PARAM,
      `into must be a Uint8Array, not ${describe(into)}`,
    );
  }
  requireState("dataRestore()", IN_USE);
  const context = instanceContext();
  return context === undefined
    ? mainRegion!.restore(SUPERVISOR_HOLDER, into, false)
    : context.region.restore(context.id, into);
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
  requireState("markFailed()", REGISTERED_OR_STARTED);
  if ((recoveryPolicy & RecoveryPolicy.CMAP) === 0) {
    throw new SamError(
      CsError.CS_ERR_INVALID_PARAM,
      `markFailed() needs the CMAP flag in recoveryPolicy ${recoveryPolicy}`,
    );
  }
  const block = instanceContext()!.block;
  // The supervisor wakes, terminates this instance and switches the policy to quit.
  publish(block, INST_FLAGS, Atomics.load(block, INST_FLAGS) | FLAG_MARK_FAILED);
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
  requireState("finalize()", IN_USE);
  if (state === State.STARTED) stop();
  hcCallback = null;
  state = State.FINALIZED;
}

/**
 * Runs what an instance calls first (initialize()'s checks, register()'s publish, the data
 * region's lock and copies) once on scratch memory, changing no state. A standby calls it
 * while it waits, so that a recovered instance runs these compiled rather than compiling
 * them on its way to register() (measured: 0.9 ms saved on Bun, 0.3 ms on Deno).
 *
 * @internal
 */
export function _warmUp(): void {
  checkTimeInterval(0);
  checkOptions(undefined, checkPolicy(RecoveryPolicy.RESTART));
  requireState("initialize()", ONLY_NOT_INITIALIZED);
  instanceContext();
  publish(new Int32Array(new SharedArrayBuffer(INST_BYTES)), INST_REGISTERED, 1);
  const region = DataRegion.create(SLOT_GROW_STEP);
  region.admit(1);
  region.store(1, new Uint8Array(8));
  region.size(1);
  region.restore(1, new Uint8Array(8));
}
