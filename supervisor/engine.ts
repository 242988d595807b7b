// The supervisor's engine: the lifecycle of supervision, one state value written by one
// method, and the one entry every end of an instance goes through. What to do comes from the
// pure functions of recovery.ts and reload.ts; timing, the standby, the record, quorum, the
// wait for released sockets, a reload under way and the hand-over each have a file of their own.
import { type StuckPolicy, StuckThreads } from "../handover/hand_over.ts";
import type { ThreadVerdict } from "../handover/thread_watch.ts";
import type { ReloadResult, SupervisorEnd, SupervisorStatus } from "../events.ts";
import type { QuorumSource, SuperviseOptions } from "../options.ts";
import { RecoveryPolicy } from "../policy.ts";
import { confirmEnd, healthStarted } from "../shared_memory/protocol.ts";
import { SIGKILL, signalName } from "../shared_memory/signals.ts";
import { ACTION_MASK, restarts } from "../shared_memory/validate.ts";
import { HealthTimer } from "./health.ts";
import { EXIT_FLUSH_MS, Instance, type InstanceOwner, type WorkerStarter } from "./instance.ts";
import type { Emit } from "./log.ts";
import { type QuorumWatch, watchQuorum } from "./quorum_relay.ts";
import { RecordKeeper, type RecordSink, statusOf } from "./record.ts";
import {
  decideAfterEnd,
  endCode,
  type EndDecision,
  type EndReason,
  escalate,
  planRestart,
  type RestartLimits,
  restartLimits,
} from "./recovery.ts";
import type { RegionKeeper } from "./region_keeper.ts";
import { beginReload, type Reload } from "./reload.ts";
import { afterRelease } from "./socket_release.ts";
import { Standby } from "./standby.ts";

/** How often at most the record's last_updated is rewritten for new health checks. */
const LAST_UPDATED_EVERY_MS = 100;

/** What the watch of a terminated instance's thread says, where the next instance waits for it. */
type Verdict = Promise<ThreadVerdict> | null;

/** Why the supervisor gives an instance up (`reload`: a reload's instance called start()). */
type Cause = "deadline" | "stop" | "quorum" | "mark-failed" | "finish" | "reload";

/** Supervision with an instance serving, and the reload that is to replace it, if any. */
type Running = { state: "running"; current: Instance; stopping: boolean; reload: Reload | null };

/** The lifecycle of supervision. */
type Supervision =
  | { state: "starting" }
  | Running
  // The restart delay, then the wait for the ended instance's sockets; aborted when it ends.
  | { state: "restart-delay"; wait: AbortController }
  | { state: "watching-thread" }
  | { state: "handing-over" }
  | { state: "ended"; end: SupervisorEnd };

/** Everything an engine is started with. */
export interface EngineConfig {
  /** URL of the application module. */
  module: string;
  /** Authoritative time interval, policy and options. */
  options: SuperviseOptions;
  keeper: RegionKeeper;
  warnSignal: number;
  /** Id of the first instance (above 1 after a hand-over). */
  firstId: number;
  restartAges: readonly number[];
  stuckThreads: number;
  sinks: RecordSink[];
  quorum: { source: QuorumSource; owned: boolean } | undefined;
  /** What a stuck thread leads to. */
  stuck: StuckPolicy;
  emit: Emit;
  /** How an instance's Worker is started; a Worker running worker_shim.ts when not given. */
  startWorker?: WorkerStarter;
}

/** Runs supervision: instances one after another, as the policy says. */
export class Engine implements InstanceOwner {
  readonly #config: EngineConfig;
  readonly #interval: number;
  readonly #limits: RestartLimits;
  readonly #standby: Standby;
  readonly #quorum: QuorumWatch | undefined;
  #supervision: Supervision = { state: "starting" };
  #policy: number;
  #warnSignal: number;
  #lastId: number;
  #lastCode = 0;
  #restartTimes: readonly number[];
  readonly #stuck: StuckThreads;
  #health: HealthTimer | null = null;
  readonly #records: RecordKeeper;
  #resolveDone!: (end: SupervisorEnd) => void;
  /** Resolves when supervision ends. */
  readonly done: Promise<SupervisorEnd> = new Promise((resolve) => this.#resolveDone = resolve);

  constructor(config: EngineConfig) {
    this.#config = config;
    const { options } = config;
    this.#interval = options.timeInterval;
    this.#policy = options.recoveryPolicy;
    this.#warnSignal = config.warnSignal;
    this.#lastId = config.firstId - 1;
    const now = performance.now();
    this.#restartTimes = config.restartAges.map((age) => now - age);
    this.#stuck = new StuckThreads(config.stuckThreads, config.stuck, config.emit);
    this.#limits = restartLimits(options);
    this.#standby = new Standby({
      enabled: options.standby ?? true,
      prerun: options.prerun ?? true,
      keeper: config.keeper,
      spawn: (region, replay, prerun, owner = this) => {
        const { module, startWorker } = config;
        const spawn = { module, timeInterval: this.#interval, recoveryPolicy: this.#policy };
        return new Instance({ ...spawn, replay, prerun }, region, owner, startWorker);
      },
      dropped: (reason) => config.emit("standby", { id: this.#lastId + 1, reason }),
    });
    this.#records = new RecordKeeper(config.sinks, (status) => config.emit("status", { status }));
    const q = config.quorum;
    this.#quorum = q && watchQuorum(q.source, (quorate) => this.#quorumChanged(quorate), q.owned);
  }

  /** The one writer of the lifecycle. */
  #to(next: Supervision): void {
    const from = this.#supervision;
    if (from.state === "restart-delay") from.wait.abort();
    this.#supervision = next;
  }

  /** Starts the first instance. */
  begin(): void {
    if (this.#supervision.state === "starting") this.#startNext();
  }

  /** libsam's record as it stands, plus sam's counters. */
  get status(): SupervisorStatus {
    const s = this.#supervision;
    return statusOf({
      // The instance that serves: during a reload, the one being replaced until it ended.
      instanceId: s.state === "running" ? s.current.id : this.#lastId,
      ended: s.state === "ended" ? s.end.reason : null,
      phase: s.state === "running" ? s.current.phase : null,
      policy: this.#policy,
      interval: this.#interval,
      lastCheck: this.#health?.lastCheck ?? 0,
      stuckThreads: this.#stuck.count,
    });
  }

  /** Ends supervision gracefully: warn, wait, kill the current instance. */
  stop(): Promise<SupervisorEnd> {
    const s = this.#supervision;
    if (s.state === "running") {
      // An instance about to start (stopped from an "instance" listener) starts and is
      // stopped like any other, so that it too reports its end.
      this.#to({ ...s, stopping: true });
      s.reload?.end("stop");
      if (s.current.live) this.#giveUp(s.current, "stop");
    } else if (s.state !== "handing-over") {
      // Between instances (a restart delay): the one that ended last gives the code.
      this.#finish(this.#lastCode, "stopped");
    }
    return this.done;
  }

  /** Starts the next instance from the program's files beside the serving one (a reload). */
  reload(): Promise<ReloadResult> {
    const s = this.#supervision;
    return new Promise((resolve) => {
      const reload = beginReload(s.state === "running" ? s : null, this.#lastId + 1, resolve, {
        ...this.#config,
        stuck: this.#stuck,
        owner: this,
        standby: this.#standby,
        replace: () => this.#giveUp((this.#supervision as Running).current, "reload"),
        forget: () => this.#to({ ...this.#supervision as Running, reload: null }),
      });
      if (reload === null || s.state !== "running") return;
      this.#lastId++;
      this.#to({ ...s, reload });
      reload.activate(this.#warnSignal, this.#quorum?.quorate ?? true);
    });
  }

  /** `inst` serves as instance `id` from now on. */
  #serve(inst: Instance, id: number): void {
    this.#config.keeper.admit(id);
    this.#to({ state: "running", current: inst, stopping: false, reload: null });
    this.#health = new HealthTimer(inst.block, this.#interval, {
      onCheck: (at) => this.#healthChecked(at),
      onLate: () => this.#late(inst),
    });
  }

  #startNext(): void {
    // A standby dropped here is reported for the id it would have been.
    const inst = this.#standby.next(this.#lastId + 1);
    const id = ++this.#lastId;
    if (inst === null) return this.#finish(1, "failed");
    this.#serve(inst, id);
    // Announced before it runs: once activated, an instance may end before this thread gets
    // the CPU back, and its events must come after these.
    this.#config.emit("instance", { id });
    if (id > 1) this.#config.emit("restart", { id });
    const s = this.#supervision;
    if (s.state !== "running" || s.current !== inst) return inst.dismiss(); // a listener ended it
    inst.activate(id, this.#warnSignal, this.#quorum?.quorate ?? true, true);
    this.#writeRecord();
    if (s.stopping) this.#giveUp(inst, "stop");
  }

  /** The serving instance ended during a reload: the reload's instance serves from now on. */
  #takeOver(): void {
    const reload = (this.#supervision as Running).reload!;
    const { inst } = reload;
    // The stored data moved into the home this instance was given (rehome in #end).
    this.#serve(inst, inst.id);
    if (inst.phase.phase === "checking") this.#health!.start();
    this.#writeRecord();
    reload.tookOver();
  }

  // ---- What instances tell (InstanceOwner) ----

  registered(inst: Instance): void {
    this.#config.emit("registered", { id: inst.id });
    this.#standby.prepareSoon();
  }

  checking(_inst: Instance, started: boolean): void {
    if (started) this.#health?.start(); // start() counts as a health check
    else this.#health?.stop();
  }

  markedFailed(inst: Instance): void {
    // A hostile instance can raise the flag without the CMAP flag; it means nothing then.
    if ((this.#policy & RecoveryPolicy.CMAP) === 0) return;
    this.#policy = (this.#policy & ~ACTION_MASK) | RecoveryPolicy.QUIT;
    this.#terminate(inst, 128 + SIGKILL, "mark-failed");
  }

  ended(inst: Instance, code: number): void {
    this.#end(inst, code, "itself", null);
  }

  changed(_inst: Instance): void {
    this.#writeRecord();
  }

  lost(inst: Instance): void {
    this.#standby.lost(inst);
  }

  // ---- Health, quorum, warning ----

  #healthChecked(at: number): void {
    if (at - this.#records.writtenAt >= LAST_UPDATED_EVERY_MS) this.#writeRecord();
  }

  #late(inst: Instance): void {
    this.#config.emit("late", { id: inst.id });
    this.#giveUp(inst, "deadline");
  }

  #quorumChanged(quorate: boolean): void {
    this.#config.emit("quorum", { quorate });
    const s = this.#supervision;
    if (s.state !== "running" || !s.current.live) return;
    s.reload?.inst.setQuorate(quorate);
    s.current.setQuorate(quorate);
    // Losing quorum while started is a failure (sam_initialize(3)).
    if (!quorate && s.current.phase.phase === "checking") this.#giveUp(s.current, "quorum");
  }

  /** Warn, wait, kill: the deadline, stop(), quorum loss and a reload all come here. */
  #giveUp(inst: Instance, cause: Cause): void {
    if (inst.phase.phase === "warned") return;
    const signo = inst.warnSignal(this.#warnSignal);
    const decision = escalate(signo, inst.listens(signo), this.#interval);
    if (decision.action === "terminate") return this.#terminate(inst, decision.code, cause);
    this.#health?.stop();
    inst.warn(signo, this.#interval, () => this.#terminate(inst, 128 + SIGKILL, cause));
    this.#config.emit("warning", { id: inst.id, signal: signalName(signo)! });
  }

  #terminate(inst: Instance, code: number, cause: Cause): void {
    this.#end(inst, code, "supervisor", cause);
  }

  // ---- The one entry of every end ----

  #end(inst: Instance, rawCode: number, by: "itself" | "supervisor", cause: Cause | null): void {
    if (!inst.live) return;
    let verdict: Verdict = null;
    try {
      const id = inst.id;
      // Exit codes are 8 bits, as a shell sees them.
      const code = rawCode & 0xff;
      const checking = by === "supervisor" || healthStarted(inst.block);
      this.#health?.settle();
      this.#health?.stop();
      const { keeper, emit } = this.#config;
      // Fenced first, so that nothing the instance still does can land.
      if (by === "supervisor") keeper.fence(id);
      inst.close(code, by, () => emit("terminated", { id, code }));
      if (by === "supervisor") verdict = this.#stuck.watch(id, inst.threadId);
      this.#lastCode = code;
      this.#warnSignal = inst.warnSignal(this.#warnSignal);
      // The next instance gets memory this one never saw; a broken header cannot be trusted.
      const corrupt = !keeper.rehome(this.#lastId);
      if (corrupt) emit("corrupt", { id });
      emit("exit", { id, code });
      const s = this.#supervision;
      if (s.state !== "running") return; // handing over, or supervision already ended
      const facts = { checking, corrupt, stopping: s.stopping, reloading: s.reload !== null };
      const markedFailed = cause === "mark-failed";
      const decision = decideAfterEnd({ ...facts, markedFailed, restart: restarts(this.#policy) });
      this.#act(code, decision, verdict, inst);
    } finally {
      // Acted on (the next instance, if any, is activated): the ended one may print its last
      // output and tear down now, without delaying the next one's start.
      confirmEnd(inst.block);
    }
  }

  #act(code: number, decision: EndDecision, verdict: Verdict, ended: Instance): void {
    if (decision.action === "take-over") return this.#takeOver();
    if (decision.action === "finish") {
      return this.#finish(endCode(decision.reason, code), decision.reason);
    }
    const plan = planRestart(this.#restartTimes, performance.now(), this.#limits);
    if (plan.action === "give-up") {
      console.error(
        `sam: instance ${this.#lastId} failed with code ${code} after ${plan.recent} restarts within ${this.#limits.restartWindow} ms; maxRestarts is ${this.#limits.maxRestarts}, giving up`,
      );
      return this.#finish(endCode("restart-limit", code), "restart-limit");
    }
    this.#restartTimes = plan.history;
    if (verdict === null) return this.#restartAfter(plan.delay, ended);
    // Never at a healthy instance's cost: the verdict comes before the next instance starts.
    this.#to({ state: "watching-thread" });
    void verdict.then(async (v) => {
      if (this.#supervision.state !== "watching-thread") return;
      if (this.#stuck.goesOn(v)) return this.#restartAfter(plan.delay, ended);
      // Into a new image of the process, or out of it: the stuck thread stays in this one.
      this.#to({ state: "handing-over" });
      const { region } = this.#config.keeper;
      const at = { lastId: this.#lastId, warnSignal: this.#warnSignal, data: region };
      const end = await this.#stuck.leaveBehind(v, at, this.#restartTimes);
      this.#finish(end.code, end.reason);
    });
  }

  /** Starts the next instance after `delay` ms, once what the ended one held is released. */
  #restartAfter(delay: number, ended: Instance): void {
    const wait = new AbortController();
    this.#to({ state: "restart-delay", wait });
    afterRelease(ended, delay, wait.signal, () => this.#startNext());
  }

  // ---- The record and the end of supervision ----

  #writeRecord(): void {
    this.#records.write(this.status);
  }

  #finish(code: number, reason: EndReason): void {
    const s = this.#supervision;
    if (s.state === "ended") return;
    if (s.state === "running") s.reload?.end("finish");
    const end: SupervisorEnd = { code, reason };
    this.#to({ state: "ended", end });
    this.#quorum?.close();
    this.#standby.close();
    const current = s.state === "running" ? s.current : null;
    if (current?.live) this.#terminate(current, 128 + SIGKILL, "finish");
    this.#records.end(this.status, reason);
    const announce = () => {
      this.#config.emit("end", end);
      this.#resolveDone(end);
    };
    // An instance that said it ended may still be flushing its output: let its Worker finish
    // first (for at most EXIT_FLUSH_MS, as a stuck thread never does), then end.
    if (current === null) return announce();
    current.afterExit(EXIT_FLUSH_MS, announce, () => {});
  }
}
