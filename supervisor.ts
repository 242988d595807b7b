/**
 * The main-thread supervisor: runs instances in Workers, watches their health checks through
 * shared memory, warns, terminates and recovers them.
 *
 * @module
 */
import { Worker } from "node:worker_threads";
import process from "node:process";
import { clock } from "./_context.ts";
import {
  FLAG_MARK_FAILED,
  HC_STARTED,
  INST_BYTES,
  INST_EVENT_SEQ,
  INST_FLAGS,
  INST_HC_STATE,
  INST_HC_TIME_F64,
  INST_LISTENERS,
  INST_REGISTERED,
  INST_THREAD_ID,
  INST_WARN_SIGNAL,
  SUPERVISOR_HOLDER,
} from "./_layout.ts";
import { DataRegion, toBytes } from "./_region.ts";
import { runtime } from "./_runtime.ts";
import { SIGKILL, signalName, signalNumber, SIGTERM } from "./_signals.ts";
import { readResumeState, respawnProcess } from "./_respawn.ts";
import { CsError, SamError } from "./errors.ts";
import type { SuperviseOptions } from "./options.ts";
import { _ACTION_MASK, RecoveryPolicy } from "./policy.ts";

const SHIM_URL = new URL("./worker_shim.ts", import.meta.url);
/** How often, and how long, the supervisor looks for a terminated instance's thread. */
const THREAD_POLL_MS = 10;
const THREAD_GRACE_MS = 500;
const DEFAULT_MAX_DATA_SIZE = 64 * 1024 * 1024;

/** libsam's state values, as published in its cmap record. */
export type SupervisorState = "stopped" | "running" | "failed" | "waiting for quorum";

/** What {@linkcode Supervisor.status} reports. */
export interface SupervisorStatus {
  /** Id of the current (or last) instance; 0 before the first. */
  instanceId: number;
  /** libsam's state: `running` while health checking is started. */
  state: SupervisorState;
  /** `quit` or `restart`. */
  recovery: "quit" | "restart";
  /** The time interval in ms. */
  pollPeriod: number;
  /** ns since the epoch of the last health check; 0 before any. */
  lastUpdated: number;
  /** How many instances were started after the first. */
  restarts: number;
  /**
   * Terminated instances whose thread the runtime did not stop (Deno 2.7 to 2.9 with a busy
   * loop). Their stores are fenced off, but they use CPU until the process ends.
   */
  stuckThreads: number;
}

/** How supervision ended. */
export interface SupervisorEnd {
  /** The exit code: the last instance's. */
  code: number;
  /**
   * `exited`: an instance ended with health checking stopped; `quit`: recovery under the quit
   * policy; `failed`: `markFailed()`; `stopped`: {@linkcode Supervisor.stop}; `respawned`:
   * handed over to a new process.
   */
  reason: "exited" | "quit" | "failed" | "stopped" | "respawned";
}

interface Pending {
  worker: Worker;
  block: Int32Array;
  blockF64: Float64Array;
  exited: boolean;
}

interface Instance extends Pending {
  id: number;
  ended: boolean;
  terminatedCode: number | null;
  warned: boolean;
  deadline: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Supervises instances of a module, each in its own Worker.
 *
 * Events (all `CustomEvent`s whose `detail` has the instance `id`): `instance` (started),
 * `registered`, `late` (health check missed), `warning` (signal sent, with `signal`),
 * `terminated` (with `code`), `exit` (with `code`), `restart`, `stuck-thread`, `corrupt`
 * (the shared header was overwritten), `end` (with `code` and `reason`).
 *
 * @example Embedding supervision
 * ```ts
 * import { RecoveryPolicy, supervise } from "jsr:@x/sam";
 * const supervisor = supervise(new URL("./worker_app.ts", import.meta.url), {
 *   timeInterval: 1000,
 *   recoveryPolicy: RecoveryPolicy.RESTART,
 * });
 * supervisor.addEventListener("restart", (e) => console.log((e as CustomEvent).detail));
 * const { code } = await supervisor.done;
 * ```
 */
export class Supervisor extends EventTarget {
  readonly #module: string;
  readonly #timeInterval: number;
  #policy: number;
  readonly #region: DataRegion;
  readonly #useStandby: boolean;
  readonly #mainThreadStyle: boolean;
  readonly #respawn: boolean;
  #warnSignal: number;
  #lastId = 0;
  #firstId = 1;
  #current: Instance | null = null;
  #standby: Pending | null = null;
  #stuckThreads = 0;
  #failed = false;
  #stopping = false;
  #handingOver = false;
  #finished = false;
  #resolveDone!: (end: SupervisorEnd) => void;

  /** Resolves when supervision ends, with the exit code and why. */
  readonly done: Promise<SupervisorEnd>;

  /** @internal Use {@linkcode supervise} or `register()`. */
  constructor(
    module: string | URL,
    options: SuperviseOptions,
    region?: DataRegion,
    warnSignal?: number,
    mainThreadStyle = false,
  ) {
    super();
    this.#module = String(module);
    this.#timeInterval = options.timeInterval;
    this.#policy = options.recoveryPolicy;
    this.#region = region ?? DataRegion.create(options.maxDataSize ?? DEFAULT_MAX_DATA_SIZE);
    this.#useStandby = options.standby ?? true;
    this.#mainThreadStyle = mainThreadStyle;
    this.#respawn = mainThreadStyle && (options.respawnOnStuckThread ?? true);
    this.#warnSignal = warnSignal ?? SIGTERM;
    this.done = new Promise((resolve) => this.#resolveDone = resolve);
    if (mainThreadStyle) {
      const resumed = readResumeState();
      if (resumed !== null) {
        this.#region.store(SUPERVISOR_HOLDER, resumed.data, false);
        this.#firstId = resumed.nextId;
        this.#warnSignal = resumed.warnSignal;
      }
    }
  }

  /** @internal The libsam style: register() on the main thread. */
  static _fromMainThread(
    module: string,
    options: SuperviseOptions,
    region: DataRegion,
    warnSignal: number,
  ): Supervisor {
    const supervisor = new Supervisor(module, options, region, warnSignal, true);
    supervisor._begin();
    return supervisor;
  }

  /** @internal Stores what the first instance restores. */
  _seed(bytes: Uint8Array): void {
    this.#region.store(SUPERVISOR_HOLDER, bytes, false);
  }

  /** @internal Starts the first instance. */
  _begin(): void {
    this.#lastId = this.#firstId - 1;
    this.#startNext();
  }

  /** The state libsam would publish in cmap, plus sam's counters. */
  get status(): SupervisorStatus {
    const inst = this.#current;
    const started = inst !== null && !inst.ended &&
      Atomics.load(inst.block, INST_HC_STATE) === HC_STARTED;
    const last = inst?.blockF64[INST_HC_TIME_F64] ?? 0;
    return {
      instanceId: this.#lastId,
      state: this.#failed ? "failed" : started ? "running" : "stopped",
      recovery: (this.#policy & _ACTION_MASK) === RecoveryPolicy.RESTART ? "restart" : "quit",
      pollPeriod: this.#timeInterval,
      lastUpdated: Number.isFinite(last) && last > 0 ? Math.round(last * 1e6) : 0,
      restarts: Math.max(0, this.#lastId - this.#firstId),
      stuckThreads: this.#stuckThreads,
    };
  }

  /**
   * A copy of the stored data.
   *
   * @returns The bytes stored now.
   * @throws {SamError} `CS_ERR_TRY_AGAIN` when an instance holds the lock at this moment.
   */
  data(): Uint8Array {
    return this.#region.restore(SUPERVISOR_HOLDER, undefined, false);
  }

  /**
   * Stops supervision gracefully: the current instance gets its warning signal (when it
   * listens for it) and up to `timeInterval` ms to end, then it is terminated.
   *
   * @returns The end of supervision, as {@linkcode Supervisor.done}.
   */
  stop(): Promise<SupervisorEnd> {
    this.#stopping = true;
    const inst = this.#current;
    if (inst === null || inst.ended) {
      this.#finish(inst?.terminatedCode ?? 0, "stopped");
      return this.done;
    }
    const signo = this.#warnSignalOf(inst);
    const listens = signo !== SIGKILL &&
      ((Atomics.load(inst.block, INST_LISTENERS) >>> signo) & 1) === 1;
    if (!listens) {
      this.#terminate(inst, 128 + (signo === SIGKILL ? SIGKILL : signo));
    } else {
      this.#warn(inst, signo);
    }
    return this.done;
  }

  #emit(type: string, detail: Record<string, unknown>): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  #spawn(): Pending {
    const buffer = new SharedArrayBuffer(INST_BYTES);
    const pending: Pending = {
      worker: new Worker(SHIM_URL, { workerData: { mainModule: this.#module, block: buffer } }),
      block: new Int32Array(buffer),
      blockF64: new Float64Array(buffer),
      exited: false,
    };
    pending.worker.on("error", (error: unknown) => {
      if (!runtime.printsWorkerErrors) console.error(error);
    });
    pending.worker.on("exit", (code: number) => {
      pending.exited = true;
      if (this.#standby === pending) this.#standby = null;
      const inst = pending as Instance;
      if (inst.id !== undefined) this.#end(inst, code);
    });
    return pending;
  }

  #startNext(): void {
    if (this.#finished) return;
    const id = ++this.#lastId;
    let pending = this.#standby;
    this.#standby = null;
    if (pending === null || pending.exited) pending = this.#spawn();
    const inst = pending as Instance;
    Object.assign(inst, {
      id,
      ended: false,
      terminatedCode: null,
      warned: false,
      deadline: undefined,
    });
    Atomics.store(inst.block, INST_WARN_SIGNAL, this.#warnSignal);
    this.#region.admit(id);
    this.#current = inst;
    inst.worker.ref();
    inst.worker.postMessage({
      type: "activate",
      id,
      region: this.#region.handles,
      timeInterval: this.#timeInterval,
      recoveryPolicy: this.#policy,
    });
    this.#watchEvents(inst);
    this.#emit("instance", { id });
    if (id > this.#firstId) this.#emit("restart", { id });
    if (this.#useStandby) {
      setTimeout(() => {
        if (this.#finished || this.#standby !== null) return;
        this.#standby = this.#spawn();
        this.#standby.worker.unref();
      }, 0);
    }
  }

  /** Follows the instance's published changes (start, stop, markFailed) without blocking. */
  #watchEvents(inst: Instance): void {
    const wait = (seen: number) => {
      if (inst.ended) return;
      const result = Atomics.waitAsync(inst.block, INST_EVENT_SEQ, seen);
      if (result.async) result.value.then(() => changed());
      else changed();
    };
    let registered = false;
    const changed = () => {
      if (inst.ended) return;
      const seen = Atomics.load(inst.block, INST_EVENT_SEQ);
      if (!registered && Atomics.load(inst.block, INST_REGISTERED) === 1) {
        registered = true;
        this.#emit("registered", { id: inst.id });
      }
      if (
        (Atomics.load(inst.block, INST_FLAGS) & FLAG_MARK_FAILED) !== 0 &&
        (this.#policy & RecoveryPolicy.CMAP)
      ) {
        this.#failed = true;
        this.#policy = (this.#policy & ~_ACTION_MASK) | RecoveryPolicy.QUIT;
        this.#terminate(inst, 128 + SIGKILL);
        return;
      }
      this.#arm(inst);
      wait(seen);
    };
    wait(Atomics.load(inst.block, INST_EVENT_SEQ));
  }

  #arm(inst: Instance): void {
    clearTimeout(inst.deadline);
    inst.deadline = undefined;
    if (inst.ended || inst.warned || this.#timeInterval === 0) return;
    if (Atomics.load(inst.block, INST_HC_STATE) !== HC_STARTED) return;
    const last = inst.blockF64[INST_HC_TIME_F64];
    const delay = Number.isFinite(last)
      ? Math.max(0, Math.ceil(last + this.#timeInterval - clock()))
      : 0;
    inst.deadline = setTimeout(() => this.#checkDeadline(inst), delay);
  }

  #checkDeadline(inst: Instance): void {
    inst.deadline = undefined;
    if (inst.ended || inst.warned || Atomics.load(inst.block, INST_HC_STATE) !== HC_STARTED) return;
    const last = inst.blockF64[INST_HC_TIME_F64];
    if (Number.isFinite(last) && clock() - last < this.#timeInterval) return this.#arm(inst);
    this.#emit("late", { id: inst.id });
    const signo = this.#warnSignalOf(inst);
    if (signo === SIGKILL) return this.#terminate(inst, 128 + SIGKILL);
    // A process without a handler dies of its warning signal; so does an instance.
    if (((Atomics.load(inst.block, INST_LISTENERS) >>> signo) & 1) === 0) {
      return this.#terminate(inst, 128 + signo);
    }
    this.#warn(inst, signo);
  }

  #warn(inst: Instance, signo: number): void {
    inst.warned = true;
    clearTimeout(inst.deadline);
    inst.worker.postMessage({ type: "signal", signal: signalName(signo) });
    this.#emit("warning", { id: inst.id, signal: signalName(signo) });
    inst.deadline = setTimeout(() => {
      if (!inst.ended) this.#terminate(inst, 128 + SIGKILL);
    }, this.#timeInterval);
  }

  #warnSignalOf(inst: Instance): number {
    const signo = Atomics.load(inst.block, INST_WARN_SIGNAL);
    return signalName(signo) !== undefined ? signo : this.#warnSignal;
  }

  #terminate(inst: Instance, code: number): void {
    if (inst.ended) return;
    inst.terminatedCode = code;
    // Fence first, so that nothing the instance still does can land.
    this.#region.fence(inst.id);
    const tid = Atomics.load(inst.block, INST_THREAD_ID);
    inst.worker.terminate();
    this.#emit("terminated", { id: inst.id, code });
    this.#watchThread(inst, tid);
    this.#end(inst, code);
  }

  /** Looks whether the terminated instance's thread really went away. */
  #watchThread(inst: Instance, tid: number): void {
    if (!runtime.threadExists(tid)) return;
    const since = performance.now();
    const poll = () => {
      if (!runtime.threadExists(tid)) return;
      if (performance.now() - since < THREAD_GRACE_MS) {
        return void setTimeout(poll, THREAD_POLL_MS).unref?.();
      }
      this.#stuckThreads++;
      this.#emit("stuck-thread", { id: inst.id, threadId: tid });
      if (this.#respawn && !this.#finished && !this.#handingOver) void this.#handOver();
    };
    setTimeout(poll, THREAD_POLL_MS);
  }

  /** Ends this process in favour of a new one that carries everything over. */
  async #handOver(): Promise<void> {
    this.#handingOver = true;
    const current = this.#current;
    if (current !== null && !current.ended) this.#terminate(current, 128 + SIGKILL);
    const data = this.#region.restore(SUPERVISOR_HOLDER, undefined, false);
    const spawned = await respawnProcess({
      nextId: this.#lastId + 1,
      warnSignal: this.#warnSignal,
      data,
    });
    if (spawned) return this.#finish(0, "respawned");
    // No new process: go on here, with the stuck thread reported in status.
    this.#handingOver = false;
    this.#startNext();
  }

  #end(inst: Instance, exitCode: number): void {
    if (inst.ended) return;
    inst.ended = true;
    clearTimeout(inst.deadline);
    const code = inst.terminatedCode ?? exitCode;
    if (inst.terminatedCode === null) this.#region.fence(inst.id);
    // Release the waitAsync in #watchEvents.
    Atomics.add(inst.block, INST_EVENT_SEQ, 1);
    Atomics.notify(inst.block, INST_EVENT_SEQ);
    const started = inst.terminatedCode !== null ||
      Atomics.load(inst.block, INST_HC_STATE) === HC_STARTED;
    const signo = Atomics.load(inst.block, INST_WARN_SIGNAL);
    if (signalName(signo) !== undefined) this.#warnSignal = signo;
    let failed = started;
    if (!this.#region.isIntact(this.#lastId)) {
      // Whatever the instance left there cannot be trusted: start over, empty.
      this.#region.reset();
      this.#emit("corrupt", { id: inst.id });
      failed = true;
    }
    this.#emit("exit", { id: inst.id, code });
    if (this.#handingOver) return;
    if (this.#failed) return this.#finish(code, "failed");
    if (this.#stopping) return this.#finish(code, "stopped");
    if (!failed) return this.#finish(code, "exited");
    if ((this.#policy & _ACTION_MASK) === RecoveryPolicy.RESTART) return this.#startNext();
    this.#finish(code, "quit");
  }

  #finish(code: number, reason: SupervisorEnd["reason"]): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#standby !== null) {
      this.#standby.worker.terminate();
      this.#standby = null;
    }
    const current = this.#current;
    if (current !== null && !current.ended) this.#terminate(current, 128 + SIGKILL);
    this.#emit("end", { code, reason });
    this.#resolveDone({ code, reason });
  }
}

/**
 * Supervises `module` in Workers, for programs that embed supervision. Here the options are
 * authoritative; the instance's own `initialize()` is a replay.
 *
 * @param module URL or path of the application module each instance imports.
 * @param options Time interval, policy and the {@linkcode SamOptions}.
 * @returns The running {@linkcode Supervisor}.
 * @throws {SamError} `CS_ERR_INVALID_PARAM` for bad options.
 *
 * @example
 * ```ts
 * import { RecoveryPolicy, supervise } from "jsr:@x/sam";
 * const supervisor = supervise(new URL("./app.ts", import.meta.url), {
 *   timeInterval: 500,
 *   recoveryPolicy: RecoveryPolicy.RESTART,
 * });
 * console.log(await supervisor.done);
 * ```
 */
export function supervise(module: string | URL, options: SuperviseOptions): Supervisor {
  if (options === null || typeof options !== "object") {
    throw new SamError(CsError.CS_ERR_INVALID_PARAM, `options must be an object, not ${options}`);
  }
  const { timeInterval, recoveryPolicy } = options;
  if (
    typeof timeInterval !== "number" || !Number.isFinite(timeInterval) || timeInterval < 0 ||
    timeInterval > 2 ** 31 - 1
  ) {
    throw new SamError(
      CsError.CS_ERR_INVALID_PARAM,
      `timeInterval must be a finite number of ms from 0 to 2147483647, not ${timeInterval}`,
    );
  }
  const action = recoveryPolicy & _ACTION_MASK;
  if (
    !Number.isInteger(recoveryPolicy) ||
    (action !== RecoveryPolicy.QUIT && action !== RecoveryPolicy.RESTART) ||
    (recoveryPolicy & ~0x1f)
  ) {
    throw new SamError(
      CsError.CS_ERR_INVALID_PARAM,
      `recoveryPolicy must be QUIT or RESTART, optionally with QUORUM or CMAP, not ${recoveryPolicy}`,
    );
  }
  const warn = options.warnSignal === undefined ? SIGTERM : signalNumber(options.warnSignal);
  if (warn === 0) {
    throw new SamError(
      CsError.CS_ERR_INVALID_PARAM,
      `warnSignal must be a signal name, not ${options.warnSignal}`,
    );
  }
  const href = module instanceof URL
    ? module.href
    : new URL(module, `file://${process.cwd()}/`).href;
  const supervisor = new Supervisor(href, options, undefined, warn);
  if (options.data !== undefined) supervisor._seed(toBytes(options.data));
  supervisor._begin();
  return supervisor;
}
