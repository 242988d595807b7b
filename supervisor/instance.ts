// One instance as the supervisor sees it: its Worker, its block and its lifecycle, one state
// value written by one method. The engine decides what happens to it; this file follows what
// the instance publishes and carries out what the engine decided.
import { Worker } from "node:worker_threads";
import process from "node:process";
import { HC_STARTED, HC_WAITING_QUORUM, INST_BYTES } from "../shared_memory/layout.ts";
import { type InstanceData, type SignalMessage, threadIdOf } from "../shared_memory/messages.ts";
import {
  acknowledge,
  activate,
  afterPublished,
  changeSeq,
  dismiss,
  grantData,
  listensFor,
  readPublished,
  refuseData,
  releaseWaits,
  setQuorate,
  warnSignalOf,
} from "../shared_memory/protocol.ts";
import type { DataRegionHandles } from "../shared_memory/region.ts";
import { ownModule, runtime } from "../platform/runtime.ts";
import { signalName } from "../shared_memory/signals.ts";
import { socketsOfThisProcess } from "../platform/listening_sockets.ts";
import { openedSince } from "./socket_release.ts";

const SHIM_URL = ownModule("../worker_shim", import.meta.url);
/** How long the end of an instance (or of supervision) waits for its Worker's last output. */
export const EXIT_FLUSH_MS = 1000;
/** How often the supervisor looks at an instance's block in case a wake-up was lost. */
const EVENT_POLL_MS = 100;

/** Who ended an instance. */
export type EndedBy = "itself" | "supervisor";

/** The lifecycle of an instance. */
export type InstancePhase =
  | { phase: "standby" }
  | { phase: "activating"; id: number }
  | { phase: "registered"; id: number; waitingForQuorum: boolean }
  | { phase: "checking"; id: number }
  | { phase: "warned"; id: number; signal: string; kill: ReturnType<typeof setTimeout> }
  | { phase: "ended"; id: number; code: number; by: EndedBy };

/** What an instance tells the engine. */
export interface InstanceOwner {
  /** register() returned in the instance. */
  registered(inst: Instance): void;
  /** Health checking started (true) or stopped (false). */
  checking(inst: Instance, started: boolean): void;
  /** markFailed() was called. */
  markedFailed(inst: Instance): void;
  /** Its JavaScript ended with `code`, or its Worker exited. */
  ended(inst: Instance, code: number): void;
  /** A change up to `seq` was acted on; the record is to be written before it is acknowledged. */
  changed(inst: Instance): void;
  /** A Worker that was never activated went away. */
  lost(inst: Instance): void;
}

/** What a Worker is started with. */
export interface SpawnConfig {
  module: string;
  timeInterval: number;
  recoveryPolicy: number;
  /**
   * For a standby that runs the application ahead, or a reload's instance: the region as it is
   * now, to read.
   */
  replay: DataRegionHandles | null;
  /** Run the application ahead of the activation (a standby's pre-run). */
  prerun: boolean;
}

/** What the supervisor uses of an instance's Worker (a node:worker_threads Worker). */
export interface InstanceWorker {
  on(event: "message" | "error" | "exit", listener: (value: any) => void): unknown;
  once(event: "message" | "exit", listener: (value: any) => void): unknown;
  postMessage(message: unknown): void;
  terminate(): Promise<number>;
  ref(): void;
  unref(): void;
}

/** Starts the Worker an instance runs in, with what it is given. */
export type WorkerStarter = (workerData: InstanceData) => InstanceWorker;

/** A Worker running worker_shim.ts: how every instance runs. */
export const startShim: WorkerStarter = (workerData) =>
  new Worker(runtime.workerEntry(SHIM_URL), { workerData });

/** An instance: a Worker running the shim, from standby to ended. */
export class Instance {
  readonly worker: InstanceWorker;
  readonly block: Int32Array;
  /** Header of the data region the Worker was given: it acts on no other. */
  readonly regionHeader: SharedArrayBuffer;
  /** Linux thread id, from the shim's first message (sent before any application code). */
  threadId = 0;
  /** The Worker's exit code once it exited; null while it runs. */
  exitCode: number | null = null;
  /** The sockets it opened and had not closed when it ended (null: unknown, or not ended). */
  socketsLeft: Set<number> | null = null;
  /** The process's sockets at its activation: whatever is opened from then on is its own. */
  #socketsBefore: Set<number> | null = null;
  /** Whether it runs the application ahead of its activation. */
  readonly prerun: boolean;
  #phase: InstancePhase = { phase: "standby" };
  readonly #owner: InstanceOwner;
  #poll: ReturnType<typeof setInterval> | undefined;

  /** Starts a Worker that waits to be activated, acting on `region` once it is. */
  constructor(
    config: SpawnConfig,
    region: DataRegionHandles,
    owner: InstanceOwner,
    start: WorkerStarter = startShim,
  ) {
    this.#owner = owner;
    const buffer = new SharedArrayBuffer(INST_BYTES);
    const workerData: InstanceData = {
      mainModule: config.module,
      block: buffer,
      region,
      timeInterval: config.timeInterval,
      recoveryPolicy: config.recoveryPolicy,
      prerun: config.prerun,
      replay: config.replay,
    };
    this.block = new Int32Array(buffer);
    this.regionHeader = region.header;
    this.prerun = workerData.prerun;
    this.worker = start(workerData);
    // Only the first message counts: the shim sends it before the application can run, so
    // an application cannot make the supervisor watch another thread.
    this.worker.once("message", (message: unknown) => {
      const tid = threadIdOf(message);
      if (tid !== process.pid) this.threadId = tid;
    });
    // Needed so that an error in a Worker never becomes an error of the supervisor.
    this.worker.on("error", (error: unknown) => {
      if (!runtime.printsWorkerErrors) console.error(error);
    });
    this.worker.on("exit", (code: number) => {
      this.exitCode = code;
      if (this.#phase.phase === "standby") owner.lost(this);
      else if (this.#phase.phase !== "ended") owner.ended(this, code);
    });
  }

  /** Where the instance is in its lifecycle. */
  get phase(): InstancePhase {
    return this.#phase;
  }

  /** The instance id, 0 for a standby. */
  get id(): number {
    return this.#phase.phase === "standby" ? 0 : this.#phase.id;
  }

  /** Whether it is live: activated and not ended. */
  get live(): boolean {
    return this.#phase.phase !== "standby" && this.#phase.phase !== "ended";
  }

  /** The one writer of the lifecycle. */
  #to(next: InstancePhase): void {
    const from = this.#phase;
    if (from.phase === "warned") clearTimeout(from.kill);
    if (next.phase === "ended") {
      clearInterval(this.#poll);
      releaseWaits(this.block);
    }
    this.#phase = next;
  }

  /**
   * Makes the waiting Worker instance `id`, with the warning signal and quorum it starts with;
   * `granted` false for a reload's instance, which takes the stored data over later.
   */
  activate(id: number, warnSignal: number, quorate: boolean, granted = true): void {
    this.#to({ phase: "activating", id });
    this.#socketsBefore = socketsOfThisProcess();
    this.worker.ref();
    activate(this.block, id, warnSignal, quorate, granted);
    this.#follow();
  }

  /** A reload's instance takes the stored data over: its start() returns. */
  grantData(): void {
    grantData(this.block);
  }

  /** A reload's instance that will not take over. */
  refuseData(): void {
    refuseData(this.block);
  }

  /** Ends a Worker that was never activated. */
  dismiss(): void {
    // Published, then woken: Deno's terminate() gets through only once it stops waiting.
    dismiss(this.block);
    void this.worker.terminate();
  }

  /** Publishes the quorum to the instance; one waiting in start() wakes. */
  setQuorate(quorate: boolean): void {
    setQuorate(this.block, quorate);
  }

  /** The warning signal the instance set (or `fallback` when what it left is not a signal). */
  warnSignal(fallback: number): number {
    const signo = warnSignalOf(this.block);
    return signalName(signo) !== undefined ? signo : fallback;
  }

  /** Whether the instance listens for signal `signo`. */
  listens(signo: number): boolean {
    return listensFor(this.block, signo);
  }

  /** Sends the warning `signo`; `kill` runs if it is still there after `waitMs`. */
  warn(signo: number, waitMs: number, kill: () => void): void {
    if (!this.live) return;
    const signal = signalName(signo)!;
    this.#to({ phase: "warned", id: this.id, signal, kill: setTimeout(kill, waitMs) });
    const message: SignalMessage = { type: "signal", signal };
    this.worker.postMessage(message);
  }

  /**
   * Records the end and lets the Worker go. Ended by the supervisor, it is terminated
   * (`terminated` runs first: Deno emits the Worker's "exit" inside terminate()); ended by
   * itself, its Worker has EXIT_FLUSH_MS to finish by itself, then is terminated all the same.
   */
  close(code: number, by: EndedBy, terminated: () => void): void {
    // Read before anything is given to the next instance.
    this.socketsLeft = openedSince(this.#socketsBefore);
    if (by === "supervisor") terminated();
    this.#to({ phase: "ended", id: this.id, code, by });
    if (by === "supervisor") return void this.worker.terminate();
    this.afterExit(EXIT_FLUSH_MS, () => {}, () => void this.worker.terminate());
  }

  /** Calls `exited` once the Worker exited, or `late` (then `exited`) after `ms`. */
  afterExit(ms: number, exited: () => void, late: () => void): void {
    if (this.exitCode !== null) return exited();
    const timer = setTimeout(() => {
      late();
      exited();
    }, ms);
    this.worker.once("exit", () => {
      clearTimeout(timer);
      exited();
    });
  }

  /** Follows what the instance publishes (register, start, stop, markFailed, its end). */
  #follow(): void {
    let handled = Number.NaN;
    const changed = () => {
      if (!this.live) return;
      const published = readPublished(this.block);
      handled = published.seq;
      const phase = this.#phase;
      if (phase.phase === "activating" && published.registered) {
        this.#to({ phase: "registered", id: phase.id, waitingForQuorum: false });
        this.#owner.registered(this);
      }
      if (published.markedFailed) {
        this.#owner.markedFailed(this);
        if (!this.live) return;
      }
      if (published.ended !== null) return this.#owner.ended(this, published.ended);
      this.#followHealthState(published.health);
      if (!this.live) return;
      this.#owner.changed(this);
      acknowledge(this.block, published.seq);
    };
    const wait = () => {
      if (!this.live) return;
      afterPublished(this.block, handled, () => {
        changed();
        wait();
      });
    };
    // Should a wake-up ever be lost, a slow poll still finds the change.
    this.#poll = setInterval(() => {
      if (changeSeq(this.block) !== handled) changed();
    }, EVENT_POLL_MS);
    changed();
    wait();
  }

  #followHealthState(hc: number): void {
    const phase = this.#phase;
    if (phase.phase !== "registered" && phase.phase !== "checking") return;
    if (hc === HC_STARTED && phase.phase === "registered") {
      this.#to({ phase: "checking", id: phase.id });
      this.#owner.checking(this, true);
    } else if (hc !== HC_STARTED && phase.phase === "checking") {
      this.#to({ phase: "registered", id: phase.id, waitingForQuorum: false });
      this.#owner.checking(this, false);
    } else if (phase.phase === "registered") {
      const waiting = hc === HC_WAITING_QUORUM;
      if (waiting !== phase.waitingForQuorum) {
        this.#to({ phase: "registered", id: phase.id, waitingForQuorum: waiting });
      }
    }
  }
}
