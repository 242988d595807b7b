/**
 * The main-thread supervisor: runs instances in Workers, watches their health checks through
 * shared memory, warns, terminates and recovers them.
 *
 * @module
 */
import { Worker } from "node:worker_threads";
import process from "node:process";
import {
  ACTIVATE_GO,
  ACTIVATE_LEAVE,
  FLAG_ENDED,
  FLAG_MARK_FAILED,
  HC_STARTED,
  HC_WAITING_QUORUM,
  INST_ACK,
  INST_ACTIVATE,
  INST_BYTES,
  INST_END_SEEN,
  INST_EVENT_SEQ,
  INST_EXIT_CODE,
  INST_FLAGS,
  INST_HC_COUNT,
  INST_HC_STATE,
  INST_HC_WANT,
  INST_ID,
  INST_LISTENERS,
  INST_QUORATE,
  INST_REGISTERED,
  INST_WARN_SIGNAL,
  SUPERVISOR_HOLDER,
} from "./_layout.ts";
import { DataRegion, type DataRegionHandles, DEFAULT_MAX_DATA_SIZE, toBytes } from "./_region.ts";
import { readResumeState, respawnProcess } from "./_respawn.ts";
import { runtime } from "./_runtime.ts";
import { SIGKILL, signalName, signalNumber, SIGTERM } from "./_signals.ts";
import { removeStateRecord, writeStateRecord } from "./_state_record.ts";
import { checkOptions, checkPolicy, checkTimeInterval } from "./_validate.ts";
import { CsError, SamError } from "./errors.ts";
import type { QuorumSource, SuperviseOptions } from "./options.ts";
import { _ACTION_MASK, RecoveryPolicy } from "./policy.ts";

const SHIM_URL = new URL("./worker_shim.ts", import.meta.url);
/** How often, and how long, the supervisor looks for a terminated instance's thread. */
const THREAD_POLL_MS = 10;
const THREAD_GRACE_MS = 500;
/** CPU time a thread left behind must use within THREAD_GRACE_MS to count as spinning. */
const THREAD_SPIN_MS = 30;
const DEFAULT_RESTART_WINDOW = 60_000;
const DEFAULT_RESTART_DELAY_MAX = 30_000;
/**
 * After it saw a health check, the supervisor waits this long (at most timeInterval / 8)
 * before it asks to be woken by the next one: an instance that sends health checks in a
 * tight loop wakes it at most every 2 ms, and a deadline is late by at most this much.
 */
const HC_QUIET_MS = 2;
/** How often the supervisor looks at an instance's block in case a wake-up was lost. */
const EVENT_POLL_MS = 100;
/** How often at most the state record's last_updated is rewritten for new health checks. */
const LAST_UPDATED_EVERY_MS = 100;
/**
 * How long after an instance registered its successor's Worker is spawned: spawning takes a
 * core for 10-25 ms, which the instance's own start-up needs more (measured: spawned at once,
 * it slowed a recovered instance's register() by 0.6 ms on Bun).
 */
const STANDBY_DELAY_MS = 20;
/** How long supervision's end waits for the last instance's Worker to finish its output. */
const EXIT_FLUSH_MS = 1000;

/** ms since the epoch, comparable with what other threads and processes read. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

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
  /** The time interval in ms (libsam's `poll_period`). */
  pollPeriod: number;
  /** ns since the epoch of the last health check; 0 before any. */
  lastUpdated: number;
  /** `pollPeriod` under libsam's cmap key name. */
  poll_period: number;
  /** `lastUpdated` under libsam's cmap key name. */
  last_updated: number;
  /** How many instances were started after the first. */
  restarts: number;
  /**
   * Terminated instances whose thread the runtime did not stop (Deno 2.9 with a busy loop,
   * which spins on, or an endless Atomics.wait, which sleeps on). Their stores are fenced off.
   */
  stuckThreads: number;
}

/** How supervision ended. */
export interface SupervisorEnd {
  /** The exit code: the last instance's (at least 1 for `restart-limit`). */
  code: number;
  /**
   * `exited`: an instance ended with health checking stopped; `quit`: recovery under the quit
   * policy; `failed`: `markFailed()`, or no Worker could be started; `restart-limit`: more restarts than `maxRestarts`;
   * `stopped`: {@linkcode Supervisor.stop}; `respawned`: handed over to a new process.
   */
  reason: "exited" | "quit" | "failed" | "restart-limit" | "stopped" | "respawned";
}

interface Pending {
  worker: Worker;
  block: Int32Array;
  /** Header of the data region the Worker was given: it acts on no other. */
  regionHeader: SharedArrayBuffer;
  exited: boolean;
  /** Linux thread id, from the shim's first message (before any application code ran). */
  threadId: number;
}

interface Instance extends Pending {
  id: number;
  ended: boolean;
  terminatedCode: number | null;
  warned: boolean;
  /** Health checking was started at the supervisor's last look. */
  started: boolean;
  /** INST_HC_COUNT when the supervisor last saw a health check, and when (epoch ms). */
  hcSeen: number;
  lastHc: number;
  lastPublished: number;
  hcWaiting: boolean;
  deadline: ReturnType<typeof setTimeout> | undefined;
  quiet: ReturnType<typeof setTimeout> | undefined;
  poll: ReturnType<typeof setInterval> | undefined;
  standbyTimer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Supervises instances of a module, each in its own Worker.
 *
 * Events, all `CustomEvent`s; `detail` has the instance `id` where one is concerned:
 * `instance` (started), `registered`, `late` (health check missed), `warning` (with
 * `signal`), `terminated` (with `code`), `exit` (with `code`), `restart`, `thread-stopped`,
 * `stuck-thread`, `corrupt` (the shared header was overwritten), `quorum` (with `quorate`),
 * `status` (with `status`, on every change of libsam's record) and `end` (with `code` and
 * `reason`).
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
  readonly #options: SuperviseOptions;
  readonly #respawn: boolean;
  readonly #quorum: QuorumSource | undefined;
  #warnSignal: number;
  #lastId = 0;
  /** Exit code of the instance that ended last, as a shell sees it. */
  #lastCode = 0;
  #firstId = 1;
  #current: Instance | null = null;
  #standby: Pending | null = null;
  #restartTimes: number[] = [];
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #stuckThreads = 0;
  #failed = false;
  #stopping = false;
  #handingOver = false;
  #finished = false;
  #published = "";
  #resolveDone!: (end: SupervisorEnd) => void;

  /** Resolves when supervision ends, with the exit code and why. */
  readonly done: Promise<SupervisorEnd>;

  /** @internal Use {@linkcode supervise} or `register()`. */
  constructor(
    module: string,
    options: SuperviseOptions,
    region?: DataRegion,
    warnSignal?: number,
    mainThreadStyle = false,
  ) {
    super();
    this.#module = module;
    this.#options = options;
    this.#timeInterval = options.timeInterval;
    this.#policy = options.recoveryPolicy;
    this.#region = region ?? DataRegion.create(options.maxDataSize ?? DEFAULT_MAX_DATA_SIZE);
    this.#respawn = mainThreadStyle && (options.respawnOnStuckThread ?? true);
    this.#warnSignal = warnSignal ?? SIGTERM;
    this.#quorum = (this.#policy & RecoveryPolicy.QUORUM) ? options.quorum : undefined;
    this.done = new Promise((resolve) => this.#resolveDone = resolve);
    if (mainThreadStyle) {
      const resumed = readResumeState();
      if (resumed !== null) {
        this.#region.store(SUPERVISOR_HOLDER, resumed.data, false);
        this.#firstId = resumed.nextId;
        this.#warnSignal = resumed.warnSignal;
      }
    }
    this.#quorum?.addEventListener("change", this.#onQuorumChange);
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
    if (this.#finished) return;
    this.#lastId = this.#firstId - 1;
    this.#startNext();
  }

  /** The record libsam keeps in cmap, plus sam's counters. */
  get status(): SupervisorStatus {
    const inst = this.#current;
    const hc = inst !== null && !inst.ended ? Atomics.load(inst.block, INST_HC_STATE) : 0;
    const last = inst?.lastHc ?? 0;
    return {
      instanceId: this.#lastId,
      state: this.#failed
        ? "failed"
        : hc === HC_STARTED
        ? "running"
        : hc === HC_WAITING_QUORUM
        ? "waiting for quorum"
        : "stopped",
      recovery: (this.#policy & _ACTION_MASK) === RecoveryPolicy.RESTART ? "restart" : "quit",
      pollPeriod: this.#timeInterval,
      lastUpdated: Math.round(last * 1e6),
      poll_period: this.#timeInterval,
      last_updated: Math.round(last * 1e6),
      restarts: Math.max(0, this.#lastId - this.#firstId),
      stuckThreads: this.#stuckThreads,
    };
  }

  /**
   * A copy of the stored data.
   *
   * @returns The bytes stored now.
   * @throws {SamError} `CS_ERR_TRY_AGAIN` only when stores keep publishing faster than it can
   *   copy for 100 tries and then an instance holds the lock for more than 50 ms.
   */
  data(): Uint8Array {
    return this.#region.snapshot();
  }

  /**
   * Stops supervision gracefully: the current instance gets its warning signal (when it
   * listens for it) and up to `timeInterval` ms to end, then it is terminated. Between
   * instances (in a restart delay) supervision ends at once, with the exit code of the
   * instance that ended last, and no further instance starts.
   *
   * @returns The end of supervision, as {@linkcode Supervisor.done}.
   */
  stop(): Promise<SupervisorEnd> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    const inst = this.#current;
    if (inst === null || inst.ended) {
      // Between instances (a restart delay): the one that ended last gives the code.
      this.#finish(this.#lastCode, "stopped");
      return this.done;
    }
    const signo = this.#warnSignalOf(inst);
    if (signo !== SIGKILL && this.#listens(inst, signo) && this.#timeInterval > 0) {
      this.#warn(inst, signo);
    } else {
      this.#terminate(inst, 128 + signo);
    }
    return this.done;
  }

  #emit(type: string, detail: Record<string, unknown>): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Emits `status` and rewrites the state file when libsam's record changed. */
  #publish(force = false): void {
    const status = this.status;
    const key = `${status.instanceId}|${status.state}|${status.recovery}`;
    if (!force && key === this.#published) return;
    this.#published = key;
    this.#emit("status", { status });
    const path = this.#options.stateFile;
    if (path !== undefined && (this.#policy & RecoveryPolicy.CMAP)) {
      try {
        writeStateRecord(path, status);
      } catch (error) {
        console.error(`sam: cannot write the state file ${path}: ${error}`);
      }
    }
  }

  /**
   * Starts a Worker that waits to be activated. `region` is the data region it will act on:
   * the current one, or for a standby the one the next rehome moves the value into.
   */
  #spawn(region: DataRegionHandles): Pending {
    const buffer = new SharedArrayBuffer(INST_BYTES);
    const workerData = {
      mainModule: this.#module,
      block: buffer,
      region,
      timeInterval: this.#timeInterval,
      recoveryPolicy: this.#policy,
    };
    const pending: Pending = {
      worker: new Worker(SHIM_URL, { workerData }),
      block: new Int32Array(buffer),
      regionHeader: region.header,
      exited: false,
      threadId: 0,
    };
    // Only the first message counts: the shim sends it before the application can run, so
    // an application cannot make the supervisor watch another thread.
    pending.worker.once("message", (message: { type?: string; threadId?: unknown }) => {
      const tid = message?.threadId;
      if (message?.type === "thread" && typeof tid === "number" && Number.isInteger(tid)) {
        if (tid > 0 && tid !== process.pid) pending.threadId = tid;
      }
    });
    // Needed so that an error in a Worker never becomes an error of the supervisor.
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
    if (pending !== null && pending.regionHeader !== this.#region.header.buffer) {
      // Not the region the value is in now (it was reset or rehomed twice): start afresh.
      this.#dismiss(pending);
      pending = null;
    }
    if (pending === null || pending.exited) {
      try {
        pending = this.#spawn(this.#region.handles);
      } catch (error) {
        // No Worker at all (on Deno, for example, no read permission for worker_shim.ts).
        console.error(`sam: cannot start instance ${id}: ${error}`);
        this.#failed = true;
        return this.#finish(1, "failed");
      }
    }
    const inst = pending as Instance;
    Object.assign(inst, {
      id,
      ended: false,
      terminatedCode: null,
      warned: false,
      started: false,
      hcSeen: 0,
      lastHc: 0,
      lastPublished: 0,
      hcWaiting: false,
      deadline: undefined,
      quiet: undefined,
      poll: undefined,
      standbyTimer: undefined,
    });
    Atomics.store(inst.block, INST_WARN_SIGNAL, this.#warnSignal);
    Atomics.store(
      inst.block,
      INST_QUORATE,
      this.#quorum === undefined || this.#quorum.quorate ? 1 : 0,
    );
    this.#region.admit(id);
    this.#current = inst;
    // Announced before it runs: once activated, an instance may end before this thread
    // gets the CPU back, and its events must come after this one.
    this.#emit("instance", { id });
    if (id > this.#firstId) this.#emit("restart", { id });
    this.#publish();
    if (inst.ended) return; // a listener stopped supervision
    inst.worker.ref();
    Atomics.store(inst.block, INST_ID, id);
    // The id is written; publish the activation, then wake the waiting Worker.
    Atomics.store(inst.block, INST_ACTIVATE, ACTIVATE_GO);
    Atomics.notify(inst.block, INST_ACTIVATE);
    this.#watchEvents(inst);
  }

  /** Spawns the next instance's Worker ahead, once the current one no longer needs the CPU. */
  #prepareStandby(): void {
    if (!(this.#options.standby ?? true) || this.#finished || this.#standby !== null) return;
    this.#standby = this.#spawn(this.#region.nextHandles);
    this.#standby.worker.unref();
  }

  /** Ends a Worker that was never activated. */
  #dismiss(pending: Pending): void {
    // Published, then woken: Deno's terminate() gets through only once it stops waiting.
    Atomics.store(pending.block, INST_ACTIVATE, ACTIVATE_LEAVE);
    Atomics.notify(pending.block, INST_ACTIVATE);
    pending.worker.terminate();
  }

  /** Follows the instance's published changes (register, start, stop, markFailed). */
  #watchEvents(inst: Instance): void {
    let registered = false;
    let handled = Number.NaN;
    const wait = () => {
      if (inst.ended) return;
      // The main thread never blocks: waitAsync; "ok", "not-equal" and "timed-out" all lead
      // to changed(), which reads the words again.
      const result = Atomics.waitAsync(inst.block, INST_EVENT_SEQ, handled);
      const next = () => {
        changed();
        wait();
      };
      if (result.async) result.value.then(next);
      else next();
    };
    // Should a wake-up ever be lost, a slow poll still finds the change.
    inst.poll = setInterval(() => {
      if (Atomics.load(inst.block, INST_EVENT_SEQ) !== handled) changed();
    }, EVENT_POLL_MS);
    const changed = () => {
      if (inst.ended) return;
      const seen = Atomics.load(inst.block, INST_EVENT_SEQ);
      handled = seen;
      const flags = Atomics.load(inst.block, INST_FLAGS);
      if (!registered && Atomics.load(inst.block, INST_REGISTERED) === 1) {
        registered = true;
        this.#emit("registered", { id: inst.id });
        inst.standbyTimer = setTimeout(() => this.#prepareStandby(), STANDBY_DELAY_MS);
      }
      if ((flags & FLAG_MARK_FAILED) !== 0 && (this.#policy & RecoveryPolicy.CMAP)) {
        this.#failed = true;
        this.#policy = (this.#policy & ~_ACTION_MASK) | RecoveryPolicy.QUIT;
        this.#terminate(inst, 128 + SIGKILL);
        return;
      }
      if ((flags & FLAG_ENDED) !== 0) {
        return this.#end(inst, Atomics.load(inst.block, INST_EXIT_CODE));
      }
      const started = Atomics.load(inst.block, INST_HC_STATE) === HC_STARTED;
      if (started && !inst.started) {
        inst.started = true;
        this.#healthy(inst); // start() counts as a health check
      } else if (!started && inst.started) {
        inst.started = false;
        this.#quietHealth(inst);
      }
      this.#publish();
      // Acted on and published up to `seen`: an instance waiting in start() or stop() for the
      // record to be written may go on.
      Atomics.store(inst.block, INST_ACK, seen);
      Atomics.notify(inst.block, INST_ACK);
    };
    changed();
    wait();
  }

  /** The supervisor saw a health check (now, or at most HC_QUIET_MS ago): a new deadline. */
  #healthy(inst: Instance): void {
    this.#quietHealth(inst);
    if (inst.ended || inst.warned || !inst.started) return;
    inst.lastHc = now();
    inst.hcSeen = Atomics.load(inst.block, INST_HC_COUNT);
    if (inst.lastHc - inst.lastPublished >= LAST_UPDATED_EVERY_MS) {
      // The record's last_updated, refreshed at most every LAST_UPDATED_EVERY_MS.
      inst.lastPublished = inst.lastHc;
      this.#publish(true);
    }
    if (this.#timeInterval === 0) return;
    inst.deadline = setTimeout(() => this.#checkDeadline(inst), this.#timeInterval);
    inst.quiet = setTimeout(
      () => this.#askForWake(inst),
      Math.min(this.#timeInterval / 8, HC_QUIET_MS),
    );
  }

  #quietHealth(inst: Instance): void {
    clearTimeout(inst.deadline);
    clearTimeout(inst.quiet);
    inst.deadline = inst.quiet = undefined;
    Atomics.store(inst.block, INST_HC_WANT, 0);
  }

  /** Asks the instance to wake the supervisor at its next health check. */
  #askForWake(inst: Instance): void {
    inst.quiet = undefined;
    if (inst.ended || inst.warned || !inst.started) return;
    Atomics.store(inst.block, INST_HC_WANT, 1);
    // One that came during the quiet time came at most HC_QUIET_MS ago.
    if (Atomics.load(inst.block, INST_HC_COUNT) !== inst.hcSeen) return this.#healthy(inst);
    if (inst.hcWaiting) return;
    inst.hcWaiting = true;
    const woke = () => {
      inst.hcWaiting = false;
      if (inst.ended || inst.warned || !inst.started) return;
      if (Atomics.load(inst.block, INST_HC_COUNT) !== inst.hcSeen) return this.#healthy(inst);
      // Woken without a health check: ask again later, so that stray wakes stay rare.
      inst.quiet = setTimeout(() => this.#askForWake(inst), HC_QUIET_MS);
    };
    // The main thread never blocks: waitAsync; "ok", "not-equal" and "timed-out" all lead to
    // woke(), which reads the count again.
    const result = Atomics.waitAsync(inst.block, INST_HC_COUNT, inst.hcSeen);
    if (result.async) result.value.then(woke);
    else woke();
  }

  #checkDeadline(inst: Instance): void {
    inst.deadline = undefined;
    if (inst.ended || inst.warned || !inst.started) return;
    // A wake-up for a health check may be on its way.
    if (Atomics.load(inst.block, INST_HC_COUNT) !== inst.hcSeen) return this.#healthy(inst);
    this.#quietHealth(inst);
    this.#emit("late", { id: inst.id });
    const signo = this.#warnSignalOf(inst);
    // A process without a handler dies of its warning signal; so does an instance.
    if (signo === SIGKILL || !this.#listens(inst, signo)) {
      return this.#terminate(inst, 128 + signo);
    }
    this.#warn(inst, signo);
  }

  #listens(inst: Instance, signo: number): boolean {
    return ((Atomics.load(inst.block, INST_LISTENERS) >>> signo) & 1) === 1;
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

  #onQuorumChange = (): void => {
    const quorate = this.#quorum!.quorate;
    this.#emit("quorum", { quorate });
    const inst = this.#current;
    if (inst === null || inst.ended) return;
    Atomics.store(inst.block, INST_QUORATE, quorate ? 1 : 0);
    // Published; wake an instance whose start() waits for quorum.
    Atomics.notify(inst.block, INST_QUORATE);
    if (!quorate && Atomics.load(inst.block, INST_HC_STATE) === HC_STARTED) {
      // libsam takes the recovery action at once when quorum is lost while started.
      this.#terminate(inst, 128 + SIGKILL);
    }
  };

  #terminate(inst: Instance, code: number): void {
    if (inst.ended || inst.terminatedCode !== null) return;
    inst.terminatedCode = code;
    // Fence first, so that nothing the instance still does can land.
    this.#region.fence(inst.id);
    // Announced before terminate(): Deno emits the Worker's "exit" inside that call, and the
    // instance's "exit" event must come after this one.
    this.#emit("terminated", { id: inst.id, code });
    const tid = inst.threadId;
    inst.worker.terminate();
    this.#watchThread(inst, tid);
    this.#end(inst, code);
  }

  /**
   * Finds out whether the terminated instance's thread really went away. Deno 2.9 leaves two
   * kinds behind: one spinning in a busy loop (it burns a core: in the libsam style the
   * process hands over to a new one) and one asleep in Atomics.wait (it costs only memory).
   */
  #watchThread(inst: Instance, tid: number): void {
    if (tid <= 0) return;
    const cpuAtStart = runtime.threadCpuMs(tid);
    if (cpuAtStart < 0) return this.#emit("thread-stopped", { id: inst.id, threadId: tid });
    const since = performance.now();
    const poll = () => {
      const cpu = runtime.threadCpuMs(tid);
      if (cpu < 0) return this.#emit("thread-stopped", { id: inst.id, threadId: tid });
      if (performance.now() - since < THREAD_GRACE_MS) {
        return void setTimeout(poll, THREAD_POLL_MS);
      }
      // A thread asleep in Atomics.wait adds no 10 ms tick; one that spins adds many, even
      // when it gets a small share of a busy machine's cores.
      const spinning = cpu - cpuAtStart >= THREAD_SPIN_MS;
      this.#stuckThreads++;
      this.#emit("stuck-thread", { id: inst.id, threadId: tid, spinning });
      if (spinning && this.#respawn && !this.#finished && !this.#handingOver) void this.#handOver();
    };
    setTimeout(poll, THREAD_POLL_MS);
  }

  /** Ends this process in favour of a new one that carries everything over. */
  async #handOver(): Promise<void> {
    this.#handingOver = true;
    clearTimeout(this.#restartTimer);
    const current = this.#current;
    if (current !== null && !current.ended) this.#terminate(current, 128 + SIGKILL);
    let data: Uint8Array = new Uint8Array(0);
    try {
      data = this.#region.snapshot();
    } catch {
      // A corrupt region is carried over as empty, as after any corrupt header.
    }
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
    try {
      this.#endAndGoOn(inst, exitCode);
    } finally {
      // Acted on (the next instance, if any, is activated): the ended one may print its
      // error and tear down now, without delaying the next one's start.
      Atomics.store(inst.block, INST_END_SEEN, 1);
      Atomics.notify(inst.block, INST_END_SEEN);
    }
  }

  #endAndGoOn(inst: Instance, exitCode: number): void {
    inst.ended = true;
    clearInterval(inst.poll);
    clearTimeout(inst.standbyTimer);
    this.#quietHealth(inst);
    // Exit codes are 8 bits, as a shell sees them.
    const code = (inst.terminatedCode ?? exitCode) & 0xff;
    this.#lastCode = code;
    if (inst.terminatedCode === null) {
      // No fence here: the rehome below leaves this instance's memory behind altogether.
      // It said it ended; should its Worker not finish by itself, it is ended all the same.
      if (!inst.exited) {
        const timer = setTimeout(() => inst.exited || inst.worker.terminate(), EXIT_FLUSH_MS);
        inst.worker.once("exit", () => clearTimeout(timer));
      }
    }
    // Release the waitAsyncs of #watchEvents and #askForWake.
    Atomics.add(inst.block, INST_EVENT_SEQ, 1);
    Atomics.notify(inst.block, INST_EVENT_SEQ);
    Atomics.notify(inst.block, INST_HC_COUNT);
    const started = inst.terminatedCode !== null ||
      Atomics.load(inst.block, INST_HC_STATE) === HC_STARTED;
    const signo = Atomics.load(inst.block, INST_WARN_SIGNAL);
    if (signalName(signo) !== undefined) this.#warnSignal = signo;
    let failed = started;
    // Whatever the instance left in a broken header cannot be trusted: start over, empty.
    // Otherwise the next instance gets memory this one never saw: its thread may still run,
    // and whatever it left in the lock word or elsewhere stays behind.
    if (!this.#region.rehome(this.#lastId)) {
      this.#emit("corrupt", { id: inst.id });
      failed = true;
    }
    this.#emit("exit", { id: inst.id, code });
    if (this.#handingOver) return;
    if (this.#failed) return this.#finish(code, "failed");
    if (this.#stopping) return this.#finish(code, "stopped");
    if (!failed) return this.#finish(code, "exited");
    if ((this.#policy & _ACTION_MASK) === RecoveryPolicy.RESTART) return this.#restart(code);
    this.#finish(code, "quit");
  }

  /** Starts the next instance, within the restart limits and after the restart delay. */
  #restart(code: number): void {
    const now = performance.now();
    const window = this.#options.restartWindow ?? DEFAULT_RESTART_WINDOW;
    this.#restartTimes = this.#restartTimes.filter((t) => now - t < window);
    const max = this.#options.maxRestarts ?? Infinity;
    if (this.#restartTimes.length >= max) {
      console.error(
        `sam: instance ${this.#lastId} failed with code ${code} after ${this.#restartTimes.length} restarts within ${window} ms; maxRestarts is ${max}, giving up`,
      );
      return this.#finish(code === 0 ? 1 : code, "restart-limit");
    }
    this.#restartTimes.push(now);
    const first = this.#options.restartDelay ?? 0;
    const delay = first === 0 ? 0 : Math.min(
      this.#options.restartDelayMax ?? DEFAULT_RESTART_DELAY_MAX,
      first * 2 ** (this.#restartTimes.length - 1),
    );
    if (delay === 0) return this.#startNext();
    this.#restartTimer = setTimeout(() => this.#startNext(), delay);
  }

  #finish(code: number, reason: SupervisorEnd["reason"]): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#restartTimer);
    this.#quorum?.removeEventListener("change", this.#onQuorumChange);
    if (this.#standby !== null) {
      this.#dismiss(this.#standby);
      this.#standby = null;
    }
    const current = this.#current;
    if (current !== null && !current.ended) this.#terminate(current, 128 + SIGKILL);
    if (reason === "quit" || reason === "restart-limit") this.#failed = true;
    // libsam's record: left as failed when supervision ends by recovery under quit, removed
    // when it ends with health checking stopped.
    this.#publish();
    const path = this.#options.stateFile;
    if (path !== undefined && !this.#failed && reason !== "respawned") {
      try {
        removeStateRecord(path);
      } catch (error) {
        console.error(`sam: cannot remove the state file ${path}: ${error}`);
      }
    }
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      this.#emit("end", { code, reason });
      this.#resolveDone({ code, reason });
    };
    // An instance that said it ended may still be flushing its output: let its Worker finish
    // first (for at most EXIT_FLUSH_MS, as a stuck thread never does), then end.
    if (current === null || current.exited) return end();
    const timer = setTimeout(end, EXIT_FLUSH_MS);
    current.worker.once("exit", () => {
      clearTimeout(timer);
      end();
    });
  }
}

/**
 * Supervises `module` in Workers, for programs that embed supervision. Here the options are
 * authoritative; the instance's own `initialize()` is a replay. The first instance starts in
 * a microtask, so listeners added right after this call see all of its events.
 *
 * @param module URL or path (relative to the working directory) of the application module.
 * @param options Time interval, policy and the {@linkcode SamOptions}.
 * @returns The running {@linkcode Supervisor}.
 * @throws {SamError} `CS_ERR_INVALID_PARAM` for a bad interval, policy or option.
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
  checkTimeInterval(options.timeInterval);
  checkOptions(options, checkPolicy(options.recoveryPolicy));
  const warn = options.warnSignal === undefined ? SIGTERM : signalNumber(options.warnSignal);
  if (warn === 0) {
    throw new SamError(
      CsError.CS_ERR_INVALID_PARAM,
      `warnSignal must be a signal name, not ${options.warnSignal}`,
    );
  }
  const data = options.data === undefined ? undefined : toBytes(options.data);
  const href = module instanceof URL
    ? module.href
    : new URL(module, `file://${process.cwd()}/`).href;
  const supervisor = new Supervisor(href, options, undefined, warn);
  if (data !== undefined) supervisor._seed(data);
  queueMicrotask(() => supervisor._begin());
  return supervisor;
}
