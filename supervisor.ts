/**
 * The main-thread supervisor: runs instances in Workers, watches their health checks through
 * shared memory, warns, terminates and recovers them.
 *
 * @module
 */
import process from "node:process";
import { SUPERVISOR_HOLDER } from "./shared_memory/layout.ts";
import { DataRegion, DEFAULT_MAX_DATA_SIZE } from "./shared_memory/region.ts";
import { toBytes } from "./shared_memory/bytes.ts";
import { signalNumber, SIGTERM } from "./shared_memory/signals.ts";
import { checkOptions, checkPolicy, checkTimeInterval } from "./shared_memory/validate.ts";
import { dispatcher } from "./supervisor/log.ts";
import { statusOf } from "./supervisor/record.ts";
import type { Engine } from "./supervisor/engine.ts";
import type { SupervisionSpec } from "./supervisor/assembly.ts";
import { connectCluster } from "./corosync/connect.ts";
import { CsError, SamError } from "./errors.ts";
import type {
  ReloadResult,
  SupervisorEnd,
  SupervisorEventMap,
  SupervisorStatus,
} from "./events.ts";
import type { SuperviseOptions } from "./options.ts";

/** Makes a Supervisor: its constructor is private to supervise(). */
let open: (spec: SupervisionSpec) => Supervisor;

/**
 * Supervises instances of a module, each in its own Worker. Made by {@linkcode supervise}.
 *
 * Events are `CustomEvent`s with a typed `detail` (see {@linkcode SupervisorEventMap}):
 * `instance`, `registered`, `restart`, `late`, `warning`, `terminated`, `exit`,
 * `thread-stopped`, `stuck-thread`, `corrupt`, `reload`, `quorum`, `status` and `end`.
 *
 * @example Embedding supervision
 * ```ts
 * import { RecoveryPolicy, supervise } from "jsr:@x/sam";
 * await using supervisor = supervise(new URL("./worker_app.ts", import.meta.url), {
 *   timeInterval: 1000,
 *   recoveryPolicy: RecoveryPolicy.RESTART,
 * });
 * supervisor.addEventListener("restart", (e) => console.log(`instance ${e.detail.id}`));
 * const { code } = await supervisor.done;
 * ```
 */
export class Supervisor extends EventTarget {
  readonly #spec: SupervisionSpec;
  #engine: Engine | null = null;
  #stopRequested = false;
  #engineReady!: () => void;
  /** Resolves once the engine is loaded. */
  readonly #started: Promise<void> = new Promise((resolve) => this.#engineReady = resolve);

  /** Resolves when supervision ends, with the exit code and why. */
  readonly done: Promise<SupervisorEnd>;

  private constructor(spec: SupervisionSpec) {
    super();
    this.#spec = spec;
    // The engine is loaded here, never in an instance (which imports this module through
    // mod.ts); the first instance starts once it is, after the caller added its listeners.
    this.done = import("./supervisor/assembly.ts").then(({ createEngine }) => {
      const engine = createEngine(spec, dispatcher(spec.options, this));
      this.#engine = engine;
      this.#engineReady();
      if (this.#stopRequested) void engine.stop();
      else engine.begin();
      return engine.done;
    });
  }

  static {
    open = (spec) => new Supervisor(spec);
  }

  /** The record libsam keeps in cmap, plus sam's counters. */
  get status(): SupervisorStatus {
    if (this.#engine !== null) return this.#engine.status;
    const { timeInterval, recoveryPolicy } = this.#spec.options;
    return statusOf({
      instanceId: 0,
      ended: null,
      phase: null,
      policy: recoveryPolicy,
      interval: timeInterval,
      lastCheck: 0,
      stuckThreads: 0,
    });
  }

  /**
   * A copy of the stored data.
   *
   * @returns The bytes stored now.
   * @throws {SamError} `CS_ERR_TRY_AGAIN` only when stores keep publishing faster than it can
   *   copy for 100 tries and then an instance holds the lock for more than 50 ms.
   */
  data(): Uint8Array {
    return this.#spec.region.snapshot();
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
    if (this.#engine !== null) return this.#engine.stop();
    this.#stopRequested = true;
    return this.done;
  }

  /**
   * Reloads the program in place, a deploy that drops nothing: the next instance starts from
   * the program's files as they are now (a new Worker imports them again), beside the running
   * one, which goes on serving. When the new one calls `start()`, the running one gets its
   * warning and ends as {@linkcode Supervisor.stop} ends it (a service closes its listener
   * there; both listen on the port meanwhile, with `reusePort`); then the new one's `start()`
   * returns and it serves. A new instance that ends before its `start()` (a throw, an exit, a
   * syntax error in the new code) or does not call it within `reloadTimeout` leaves the running
   * one serving; the failure is reported (the result, a `reload` event, a log line) and not
   * retried. Instance ids go on by one; `status` follows the instance that serves.
   *
   * The stored data across the overlap: it stays the running instance's until that one has
   * ended. The new one's `dataRestore()` and `dataGetsize()` before then read what is stored at
   * that moment (each read a whole store, never a mix), its `dataStore()` throws
   * `CS_ERR_TRY_AGAIN`; once its `start()` has returned, the data is its own, and holds the
   * last store of the instance it replaced, including one made in that one's warning listener.
   *
   * @returns Whether the new instance took over: `{ reloaded: true, id, replaced }`, or
   *   `{ reloaded: false, id, reason, code? }` (`reason`: `"ended"` before `start()`,
   *   `"timeout"`, `"stopped"` by the end of supervision, `"not-running"` with no instance
   *   running to replace, `"in-progress"` beside another reload, `"stopping"`, `"no-worker"`).
   *
   * @example Deploy new code
   * ```ts
   * import { RecoveryPolicy, supervise } from "jsr:@x/sam";
   * const supervisor = supervise(new URL("./service.ts", import.meta.url), {
   *   timeInterval: 1000,
   *   recoveryPolicy: RecoveryPolicy.RESTART,
   * });
   * // ... after new files were put in place:
   * const result = await supervisor.reload();
   * if (!result.reloaded) console.error(`still the old code: ${result.reason}`);
   * ```
   */
  async reload(): Promise<ReloadResult> {
    if (this.#engine === null) {
      await Promise.race([this.#started, this.done]);
      if (this.#engine === null) return { reloaded: false, id: null, reason: "not-running" };
    }
    return this.#engine.reload();
  }

  /** Stops supervision (as {@linkcode Supervisor.stop}) at the end of an `await using` block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /**
   * Listens for one of the supervisor's events, with its `detail` typed.
   *
   * @param type The event type, such as `"restart"`.
   * @param listener Called with the `CustomEvent`.
   * @param options As for `EventTarget.addEventListener`.
   */
  override addEventListener<K extends keyof SupervisorEventMap>(
    type: K,
    listener: (this: Supervisor, event: SupervisorEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /**
   * Listens for any event, untyped, as on every `EventTarget`.
   *
   * @param type The event type.
   * @param listener Called with the event.
   * @param options As for `EventTarget.addEventListener`.
   */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener, options);
  }

  /**
   * Stops listening for an event added with {@linkcode Supervisor.addEventListener}.
   *
   * @param type The event type.
   * @param listener The listener that was added.
   * @param options As for `EventTarget.removeEventListener`.
   */
  override removeEventListener<K extends keyof SupervisorEventMap>(
    type: K,
    listener: (this: Supervisor, event: SupervisorEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  /**
   * Stops listening for an event added untyped.
   *
   * @param type The event type.
   * @param listener The listener that was added.
   * @param options As for `EventTarget.removeEventListener`.
   */
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener, options);
  }
}

/**
 * Supervises `module` in Workers, for programs that embed supervision. Here the options are
 * authoritative; the instance's own `initialize()` is a replay. The first instance starts
 * asynchronously, so listeners added right after this call see all of its events.
 *
 * @param module URL or path (relative to the working directory) of the application module.
 * @param options Time interval, policy and the {@linkcode SamOptions}.
 * @returns The running {@linkcode Supervisor}.
 * @throws {SamError} `CS_ERR_INVALID_PARAM` for a bad interval, policy or option;
 *   `CS_ERR_LIBRARY` when corosync cannot be reached (or FFI is not permitted) for a `QUORUM`
 *   policy without `options.quorum`, or for a `CMAP` record with `corosyncRecord: "required"`.
 *
 * @example Restart an application whenever it fails
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
  const warnSignal = options.warnSignal === undefined ? SIGTERM : signalNumber(options.warnSignal);
  if (warnSignal === 0) {
    throw new SamError(
      CsError.CS_ERR_INVALID_PARAM,
      `warnSignal must be a signal name, not ${options.warnSignal}`,
    );
  }
  const data = options.data === undefined ? undefined : toBytes(options.data);
  // Last: bad input throws before anything is connected.
  const cluster = connectCluster(options.recoveryPolicy, options);
  const region = DataRegion.create(options.maxDataSize ?? DEFAULT_MAX_DATA_SIZE);
  if (data !== undefined) region.store(SUPERVISOR_HOLDER, data, false);
  const href = module instanceof URL
    ? module.href
    : new URL(module, `file://${process.cwd()}/`).href;
  return open({ module: href, options, region, warnSignal, mainThread: false, cluster });
}
