// libsam's handle in this thread: the state of the libsam-style calls (sam.ts, data.ts,
// signal_listeners.ts), one lifecycle written by one method. In an instance it is the
// instance's own and acts on its block once register() returned (before that the calls are a
// replay: checked, changing nothing). On the main thread it holds what initialize() prepared
// until register() hands that to the supervisor.
import type { ClusterLinks } from "../corosync/connect.ts";
import { CsError, SamError } from "../errors.ts";
import type { SamOptions } from "../options.ts";
import { RecoveryPolicy } from "../policy.ts";
import { PRERUN_AT_REGISTER } from "../shared_memory/layout.ts";
import {
  announceMarkFailed,
  announceRegistered,
  announceStarted,
  announceStopped,
  announceWaitingForQuorum,
  dataGranted,
  isQuorate,
  sendHealthCheck,
  setListening,
  setPrerun,
  setWarnSignal,
  untilAcknowledged,
  untilDataDecided,
  untilQuorate,
  waitForAck,
} from "../shared_memory/protocol.ts";
import type { DataRegion } from "../shared_memory/region.ts";
import { type InstanceContext, instanceContext } from "./context.ts";
import { callbackChecks, type HealthCheckCallback } from "./health_checks.ts";

export type { HealthCheckCallback } from "./health_checks.ts";

/** libsam's states of its handle. */
export const State = {
  NOT_INITIALIZED: "not initialized",
  INITIALIZED: "initialized",
  REGISTERED: "registered",
  STARTED: "started",
  FINALIZED: "finalized",
} as const;
export type State = typeof State[keyof typeof State];

/** The handle's lifecycle. */
type Lifecycle =
  | { state: typeof State.NOT_INITIALIZED }
  /** `registering`: a standby's register() waits for the activation. */
  | { state: typeof State.INITIALIZED; registering: boolean }
  /** `starting`: start() waits for quorum or for the record. */
  | { state: typeof State.REGISTERED; starting: boolean }
  /** `block` at hand for hcSend(); `stopChecks` ends a health-check callback's checks. */
  | { state: typeof State.STARTED; block: Int32Array; stopChecks: () => void }
  | { state: typeof State.FINALIZED };

/** What the main thread's initialize() prepares for its supervisor, handed over by register(). */
export interface MainThreadSetup {
  /** The stored data. */
  region: DataRegion;
  /** The warning signal, as warnSignalSet() left it. */
  warnSignal: number;
  /** What initialize() connected to in corosync. */
  cluster: ClusterLinks;
}

/** How long stop() waits for the supervisor to write the state record. */
const ACK_WAIT_MS = 1000;

/** libsam's "in use" states: initialized, and not yet finalized. */
export const IN_USE: readonly State[] = [State.INITIALIZED, State.REGISTERED, State.STARTED];
export const ONLY_NOT_INITIALIZED: readonly State[] = [State.NOT_INITIALIZED];
export const ONLY_INITIALIZED: readonly State[] = [State.INITIALIZED];
export const ONLY_REGISTERED: readonly State[] = [State.REGISTERED];
export const ONLY_STARTED: readonly State[] = [State.STARTED];
export const REGISTERED_OR_STARTED: readonly State[] = [State.REGISTERED, State.STARTED];

/** libsam's handle of this thread. */
class Handle {
  #life: Lifecycle = { state: State.NOT_INITIALIZED };
  // Settings, written by initialize() only.
  #timeInterval = 0;
  #recoveryPolicy = 0;
  #options: SamOptions = {};
  /** The main thread's, from initialize() until register(). */
  #main: MainThreadSetup | null = null;
  #hcCallback: HealthCheckCallback | null = null;

  /** The one writer of the lifecycle. */
  #to(next: Lifecycle): void {
    const from = this.#life;
    if (from.state === State.STARTED) from.stopChecks();
    this.#life = next;
  }

  get state(): State {
    return this.#life.state;
  }

  get timeInterval(): number {
    return this.#timeInterval;
  }

  get recoveryPolicy(): number {
    return this.#recoveryPolicy;
  }

  /** This instance's context; undefined on the main thread. */
  get context(): InstanceContext | undefined {
    return instanceContext();
  }

  /** The main thread's stored data (before register() and after: the supervisor's). */
  get mainRegion(): DataRegion {
    return this.#main!.region;
  }

  /** In an instance: whether calls act for real (after register()) rather than replay. */
  get acting(): boolean {
    const state = this.#life.state;
    return state === State.REGISTERED || state === State.STARTED;
  }

  /**
   * Throws libsam's CS_ERR_BAD_HANDLE unless the handle is in one of `allowed`. The allowed
   * states come as constant arrays: dataStore() and friends call this every time, so it
   * allocates nothing.
   */
  require(call: string, allowed: readonly State[]): void {
    if (!allowed.includes(this.#life.state)) {
      throw new SamError(
        CsError.CS_ERR_BAD_HANDLE,
        `${call} needs state ${allowed.join(" or ")}, not ${this.#life.state}`,
      );
    }
  }

  /** initialize(), checked: the settings, and on the main thread what register() hands over. */
  initialize(interval: number, policy: number, options: SamOptions, main: MainThreadSetup | null) {
    this.#timeInterval = interval;
    this.#recoveryPolicy = policy;
    this.#options = options;
    this.#main = main;
    this.#to({ state: State.INITIALIZED, registering: false });
  }

  /** register() in an instance: resolves with the id once activated (a standby waits). */
  registerInstance(context: InstanceContext): Promise<number> {
    const registered = (id: number): number => {
      this.#to({ state: State.REGISTERED, starting: false });
      announceRegistered(context.block);
      return id;
    };
    if (context.id !== 0) return Promise.resolve(registered(context.id));
    if (this.#life.state === State.INITIALIZED && this.#life.registering) {
      return Promise.reject(
        new SamError(CsError.CS_ERR_BAD_HANDLE, "register() is already waiting"),
      );
    }
    // A standby that ran the application ahead: it waits here until it is activated.
    this.#to({ state: State.INITIALIZED, registering: true });
    setPrerun(context.block, PRERUN_AT_REGISTER);
    return context.activated!.then(registered);
  }

  /** register() on the main thread: what the supervisor is started with. */
  registerMain(): { options: SamOptions; interval: number; policy: number } & MainThreadSetup {
    this.#to({ state: State.REGISTERED, starting: false });
    const main = this.#main!;
    return {
      ...main,
      options: this.#options,
      interval: this.#timeInterval,
      policy: this.#recoveryPolicy,
    };
  }

  /** start(): health checking, after quorum under QUORUM; the record says "running" after it. */
  async start(block: Int32Array): Promise<void> {
    const life = this.#life;
    if (life.state === State.REGISTERED && life.starting) {
      throw new SamError(CsError.CS_ERR_BAD_HANDLE, "start() is already waiting for quorum");
    }
    this.#to({ state: State.REGISTERED, starting: true });
    // Bun does not count a pending waitAsync as work, and would end the instance as idle.
    const keepAlive = setInterval(() => {}, 2 ** 30);
    try {
      const policy = this.#recoveryPolicy;
      if ((policy & RecoveryPolicy.QUORUM) && !isQuorate(block)) {
        // libsam's sam_start blocks until quorate; here the wait is asynchronous.
        announceWaitingForQuorum(block);
        await untilQuorate(block);
        // finalize() meanwhile: nothing starts.
        if (this.#life.state !== State.REGISTERED) return;
      }
      const seq = announceStarted(block);
      // A reload's instance: its start() is the sign for the instance it replaces to end, and
      // it returns once that one has ended and the stored data is this one's. Refused, it is
      // being ended: it waits for that.
      if (!dataGranted(block) && !await untilDataDecided(block)) await new Promise(() => {});
      // finalize() meanwhile: nothing starts.
      if (this.#life.state !== State.REGISTERED) return;
      const callback = () => this.#hcCallback;
      this.#to({
        state: State.STARTED,
        block,
        stopChecks: callbackChecks(block, this.#timeInterval, callback),
      });
      if (policy & RecoveryPolicy.CMAP) await untilAcknowledged(block, seq);
    } finally {
      clearInterval(keepAlive);
      const now = this.#life;
      if (now.state === State.REGISTERED && now.starting) {
        this.#to({ state: State.REGISTERED, starting: false });
      }
    }
  }

  /** stop(): the record says "stopped" once this returns. */
  stop(block: Int32Array): void {
    this.#to({ state: State.REGISTERED, starting: false });
    const seq = announceStopped(block);
    if (this.#recoveryPolicy & RecoveryPolicy.CMAP) waitForAck(block, seq, ACK_WAIT_MS);
  }

  /** hcSend(): one health check. */
  hcSend(): void {
    const life = this.#life;
    if (life.state !== State.STARTED) return this.require("hcSend()", ONLY_STARTED);
    sendHealthCheck(life.block);
  }

  get hcCallback(): HealthCheckCallback | null {
    return this.#hcCallback;
  }

  set hcCallback(cb: HealthCheckCallback | null) {
    this.#hcCallback = cb;
  }

  /** warnSignalSet(), checked: for later instances too. */
  setWarnSignal(signo: number): void {
    const context = this.context;
    if (context === undefined) this.#main!.warnSignal = signo;
    else if (this.acting) setWarnSignal(context.block, signo);
  }

  /** An instance's listener `fn` for signal `signo` added (`on`) or removed. */
  listen(signo: number, fn: () => void, on: boolean): void {
    const { block, signalListeners } = this.context!;
    let set = signalListeners.get(signo);
    if (on) {
      if (set === undefined) signalListeners.set(signo, set = new Set());
      set.add(fn);
      return setListening(block, signo, true);
    }
    if (set === undefined || !set.delete(fn) || set.size > 0) return;
    signalListeners.delete(signo);
    setListening(block, signo, false);
  }

  /** markFailed(), checked. */
  markFailed(block: Int32Array): void {
    announceMarkFailed(block);
  }

  /** finalize(): stops health checking first when started. */
  finalize(): void {
    const context = this.context;
    if (this.#life.state === State.STARTED && context !== undefined) this.stop(context.block);
    this.#hcCallback = null;
    this.#to({ state: State.FINALIZED });
  }
}

/** This thread's handle. */
export const handle: Handle = new Handle();
