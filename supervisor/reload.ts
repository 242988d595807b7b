// A reload in place: the next instance starts from the program's files beside the serving one,
// which ends as stop() ends it once the new one called start(); then the new one serves (the
// decision is recovery.ts's decideAfterEnd()). Whether one may begin and why one failed are
// pure functions; a reload under way is a Reload, the owner of its instance until that one
// serves (then it passes what the instance tells on to the engine), kept in the engine's one
// state value.
import type { StuckThreads } from "../handover/hand_over.ts";
import type { ReloadFailure, ReloadResult } from "../events.ts";
import { SIGKILL } from "../shared_memory/signals.ts";
import { confirmEnd } from "../shared_memory/protocol.ts";
import type { Instance, InstanceOwner } from "./instance.ts";
import type { Emit } from "./log.ts";
import type { RegionKeeper } from "./region_keeper.ts";
import type { Standby } from "./standby.ts";

/** How long a reload's instance has to reach its start(), unless options.reloadTimeout says. */
export const RELOAD_TIMEOUT_MS = 60_000;

/** What the engine knows when a reload is asked for. */
export interface ReloadGateFacts {
  /** Supervision runs an instance (not between instances, handing over or ended). */
  running: boolean;
  /** Supervisor.stop(), SIGINT or SIGTERM asked supervision to end. */
  stopping: boolean;
  /** A reload is under way. */
  reloading: boolean;
}

/** Whether a reload may begin: only with an instance running, and one reload at a time. */
export function reloadGate(
  facts: ReloadGateFacts,
): { action: "begin" } | { action: "refuse"; reason: ReloadFailure } {
  if (facts.stopping) return { action: "refuse", reason: "stopping" };
  if (!facts.running) return { action: "refuse", reason: "not-running" };
  if (facts.reloading) return { action: "refuse", reason: "in-progress" };
  return { action: "begin" };
}

/**
 * The reload's instance ended before it took over: the reload failed. It ended by itself (a
 * throw, an exit, a syntax error in the new code), or the supervisor ended it (no `start()`
 * within the reload timeout, or supervision stopping).
 */
export function incomingFailure(
  by: "itself" | "supervisor",
  cause: "timeout" | "stop" | "other",
): ReloadFailure {
  if (by === "itself") return "ended";
  return cause === "timeout" ? "timeout" : "stopped";
}

/** What a reload needs of the engine. */
export interface ReloadSide {
  readonly emit: Emit;
  readonly keeper: RegionKeeper;
  readonly options: { readonly reloadTimeout?: number };
  readonly stuck: StuckThreads;
  /** The engine: the owner of the reload's instance once it serves. */
  readonly owner: InstanceOwner;
  /** Where its Worker comes from, and the serving instance's next standby. */
  readonly standby: Standby;
  /** The reload's instance called start(): the serving one is given up as stop() gives it up. */
  replace(): void;
  /** The reload's instance ended before it took over: the engine forgets the reload. */
  forget(): void;
}

/**
 * A reload's lifecycle: its instance starts beside the serving one (for at most the reload
 * timeout), has started (the serving one is ending), then serves, or failed.
 */
type ReloadPhase =
  | { phase: "starting"; timer: ReturnType<typeof setTimeout> }
  | { phase: "started" }
  | { phase: "serving" }
  | { phase: "failed" };

/** A reload under way: its instance, from the program's files as they are now. */
export class Reload implements InstanceOwner {
  readonly inst: Instance;
  readonly #side: ReloadSide;
  readonly #id: number;
  readonly #replaced: number;
  readonly #resolve: (result: ReloadResult) => void;
  #phase: ReloadPhase;

  /**
   * Spawns instance `id`, which is to replace instance `replaced`, and is activated by
   * {@linkcode Reload.activate}. `resolve` hears how the reload ended.
   *
   * @throws What spawning a Worker throws.
   */
  constructor(
    side: ReloadSide,
    id: number,
    replaced: number,
    resolve: (result: ReloadResult) => void,
  ) {
    this.#side = side;
    this.#id = id;
    this.#replaced = replaced;
    this.#resolve = resolve;
    this.inst = side.standby.forReload(this);
    const timeout = side.options.reloadTimeout ?? RELOAD_TIMEOUT_MS;
    this.#phase = {
      phase: "starting",
      timer: setTimeout(() => this.end("reload-timeout"), timeout),
    };
  }

  /** The one writer of the lifecycle. */
  #to(next: ReloadPhase): void {
    const from = this.#phase;
    if (from.phase === "starting") clearTimeout(from.timer);
    this.#phase = next;
  }

  /** Makes its Worker the instance, acting on the stored data only once it serves. */
  activate(warnSignal: number, quorate: boolean): void {
    const id = this.#id;
    this.#side.emit("reload", { id, replaced: this.#replaced, outcome: "begun" });
    this.#side.emit("instance", { id });
    this.inst.activate(id, warnSignal, quorate, false);
  }

  /** The serving instance ended: this one serves from now on, its start() returns. */
  tookOver(): void {
    this.#to({ phase: "serving" });
    this.inst.grantData();
    const { id } = this.inst;
    this.#side.emit("reload", { id, replaced: this.#replaced, outcome: "took-over" });
    this.#resolve({ reloaded: true, id, replaced: this.#replaced });
    // Its standby: now when it registered already, else at its register().
    if (this.inst.phase.phase !== "activating") this.#side.standby.prepareSoon();
  }

  /** Ends its instance before it served: supervision ends, or it is late, or marked failed. */
  end(cause: "stop" | "finish" | "reload-timeout" | "mark-failed"): void {
    const kind = cause === "reload-timeout"
      ? "timeout"
      : cause === "mark-failed"
      ? "other"
      : "stop";
    this.#failed(128 + SIGKILL, "supervisor", kind);
  }

  /**
   * Its instance ended before it took over: the reload failed, and nothing else changes but
   * the next home of the stored data, which it was given and so is not as new any more.
   */
  #failed(rawCode: number, by: "itself" | "supervisor", kind: "timeout" | "stop" | "other") {
    const { inst } = this;
    const { phase } = this.#phase;
    if ((phase !== "starting" && phase !== "started") || !inst.live) return;
    this.#to({ phase: "failed" });
    const { emit, keeper, stuck } = this.#side;
    const id = inst.id;
    const code = rawCode & 0xff;
    inst.refuseData();
    inst.close(code, by, () => emit("terminated", { id, code }));
    if (by === "supervisor") void stuck.watch(id, inst.threadId);
    confirmEnd(inst.block);
    keeper.dropNextHome();
    emit("exit", { id, code });
    this.#side.forget();
    // The serving instance gets a standby again, from the files as they are now, unless
    // supervision is ending.
    if (kind !== "stop") this.#side.standby.prepareSoon();
    const reason = incomingFailure(by, kind);
    // Its code is told when it ended by itself; the supervisor's SIGKILL says nothing.
    const result = by === "itself"
      ? { reloaded: false as const, id, reason, code }
      : { reloaded: false as const, id, reason };
    emit("reload", { id, replaced: this.#replaced, outcome: "failed", reason, code: result.code });
    this.#resolve(result);
  }

  // ---- What its instance tells: the reload's until it serves, then the engine's ----

  registered(inst: Instance): void {
    // Its standby comes once it serves: the next home of the stored data is its own then.
    if (this.#phase.phase === "serving") return this.#side.owner.registered(inst);
    this.#side.emit("registered", { id: inst.id });
  }

  checking(inst: Instance, started: boolean): void {
    const { phase } = this.#phase;
    if (phase === "serving") return this.#side.owner.checking(inst, started);
    if (phase !== "starting" || !started) return;
    // Its start(): the serving instance gets its warning and ends as stop() ends it.
    this.#to({ phase: "started" });
    this.#side.replace();
  }

  markedFailed(inst: Instance): void {
    if (this.#phase.phase === "serving") return this.#side.owner.markedFailed(inst);
    this.end("mark-failed");
  }

  ended(inst: Instance, code: number): void {
    if (this.#phase.phase === "serving") return this.#side.owner.ended(inst, code);
    this.#failed(code, "itself", "other");
  }

  changed(inst: Instance): void {
    this.#side.owner.changed(inst);
  }

  lost(inst: Instance): void {
    this.#side.owner.lost(inst);
  }
}

/**
 * Begins a reload beside `running` (null: no instance running) with instance `id`: the
 * reload, or null when none began (`resolve` then has the reason, and a failure to start a
 * Worker is told and logged).
 */
export function beginReload(
  running: { current: Instance; stopping: boolean; reload: Reload | null } | null,
  id: number,
  resolve: (result: ReloadResult) => void,
  side: ReloadSide,
): Reload | null {
  const gate = reloadGate({
    running: running?.current.live ?? false,
    stopping: running?.stopping ?? false,
    reloading: (running?.reload ?? null) !== null,
  });
  if (gate.action === "refuse" || running === null) {
    const reason = gate.action === "refuse" ? gate.reason : "not-running";
    resolve({ reloaded: false, id: null, reason });
    return null;
  }
  const replaced = running.current.id;
  try {
    return new Reload(side, id, replaced, resolve);
  } catch (error) {
    console.error(`sam: cannot start instance ${id} for a reload: ${error}`);
    side.emit("reload", { id, replaced, outcome: "failed", reason: "no-worker" });
    resolve({ reloaded: false, id: null, reason: "no-worker" });
    return null;
  }
}
