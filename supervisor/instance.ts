// One instance as the supervisor sees it: its Worker, its block and its lifecycle, one state
// value written by one method. The engine decides what happens to it; this file follows what
// the instance publishes and carries out what the engine decided.
import { Worker } from "node:worker_threads";
import process from "node:process";
import {
  FLAG_ENDED,
  FLAG_MARK_FAILED,
  HC_STARTED,
  HC_WAITING_QUORUM,
  INST_BYTES,
  INST_EVENT_SEQ,
  INST_EXIT_CODE,
  INST_FLAGS,
  INST_HC_STATE,
  INST_LISTENERS,
  INST_QUORATE,
  INST_REGISTERED,
  INST_WARN_SIGNAL,
} from "../shared_memory/layout.ts";
import {
  _afterChange,
  acknowledge,
  activate,
  dismiss,
  type InstanceData,
  releaseWaits,
  type SignalMessage,
  threadIdOf,
} from "../shared_memory/protocol.ts";
import type { DataRegionHandles } from "../shared_memory/region.ts";
import { ownModule, runtime } from "../platform/runtime.ts";
import { signalName } from "../shared_memory/signals.ts";

const SHIM_URL = ownModule("../worker_shim", import.meta.url);
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
  /** For a standby that runs the application ahead: the region as it is now, to read. */
  replay: DataRegionHandles | null;
}

/** An instance: a Worker running the shim, from standby to ended. */
export class Instance {
  readonly worker: Worker;
  readonly block: Int32Array;
  /** Header of the data region the Worker was given: it acts on no other. */
  readonly regionHeader: SharedArrayBuffer;
  /** Linux thread id, from the shim's first message (sent before any application code). */
  threadId = 0;
  /** The Worker's exit code once it exited; null while it runs. */
  exitCode: number | null = null;
  /** Whether it runs the application ahead of its activation. */
  readonly prerun: boolean;
  #phase: InstancePhase = { phase: "standby" };
  readonly #owner: InstanceOwner;
  #poll: ReturnType<typeof setInterval> | undefined;

  /** Starts a Worker that waits to be activated, acting on `region` once it is. */
  constructor(config: SpawnConfig, region: DataRegionHandles, owner: InstanceOwner) {
    this.#owner = owner;
    const buffer = new SharedArrayBuffer(INST_BYTES);
    const workerData: InstanceData = {
      mainModule: config.module,
      block: buffer,
      region,
      timeInterval: config.timeInterval,
      recoveryPolicy: config.recoveryPolicy,
      prerun: config.replay !== null,
      replay: config.replay,
    };
    this.block = new Int32Array(buffer);
    this.regionHeader = region.header;
    this.prerun = workerData.prerun;
    this.worker = new Worker(runtime.workerEntry(SHIM_URL), { workerData });
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

  /** Makes the waiting Worker instance `id`, with the warning signal and quorum it starts with. */
  activate(id: number, warnSignal: number, quorate: boolean): void {
    this.#to({ phase: "activating", id });
    Atomics.store(this.block, INST_WARN_SIGNAL, warnSignal);
    Atomics.store(this.block, INST_QUORATE, quorate ? 1 : 0);
    this.worker.ref();
    activate(this.block, id);
    this.#follow();
  }

  /** Ends a Worker that was never activated. */
  dismiss(): void {
    // Published, then woken: Deno's terminate() gets through only once it stops waiting.
    dismiss(this.block);
    void this.worker.terminate();
  }

  /** Publishes the quorum to the instance; one waiting in start() wakes. */
  setQuorate(quorate: boolean): void {
    Atomics.store(this.block, INST_QUORATE, quorate ? 1 : 0);
    Atomics.notify(this.block, INST_QUORATE);
  }

  /** The warning signal the instance set (or `fallback` when what it left is not a signal). */
  warnSignal(fallback: number): number {
    const signo = Atomics.load(this.block, INST_WARN_SIGNAL);
    return signalName(signo) !== undefined ? signo : fallback;
  }

  /** Whether the instance listens for signal `signo`. */
  listens(signo: number): boolean {
    return ((Atomics.load(this.block, INST_LISTENERS) >>> signo) & 1) === 1;
  }

  /** Sends the warning `signo`; `kill` runs if it is still there after `waitMs`. */
  warn(signo: number, waitMs: number, kill: () => void): void {
    if (!this.live) return;
    const signal = signalName(signo)!;
    this.#to({ phase: "warned", id: this.id, signal, kill: setTimeout(kill, waitMs) });
    const message: SignalMessage = { type: "signal", signal };
    this.worker.postMessage(message);
  }

  /** Records the end; the engine has decided the rest. */
  end(code: number, by: EndedBy): void {
    this.#to({ phase: "ended", id: this.id, code, by });
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
      const seen = Atomics.load(this.block, INST_EVENT_SEQ);
      handled = seen;
      const flags = Atomics.load(this.block, INST_FLAGS);
      const phase = this.#phase;
      if (phase.phase === "activating" && Atomics.load(this.block, INST_REGISTERED) === 1) {
        this.#to({ phase: "registered", id: phase.id, waitingForQuorum: false });
        this.#owner.registered(this);
      }
      if ((flags & FLAG_MARK_FAILED) !== 0) {
        this.#owner.markedFailed(this);
        if (!this.live) return;
      }
      if ((flags & FLAG_ENDED) !== 0) {
        return this.#owner.ended(this, Atomics.load(this.block, INST_EXIT_CODE));
      }
      this.#followHealthState();
      if (!this.live) return;
      this.#owner.changed(this);
      acknowledge(this.block, seen);
    };
    const wait = () => {
      if (!this.live) return;
      _afterChange(this.block, INST_EVENT_SEQ, handled, () => {
        changed();
        wait();
      });
    };
    // Should a wake-up ever be lost, a slow poll still finds the change.
    this.#poll = setInterval(() => {
      if (Atomics.load(this.block, INST_EVENT_SEQ) !== handled) changed();
    }, EVENT_POLL_MS);
    changed();
    wait();
  }

  #followHealthState(): void {
    const phase = this.#phase;
    if (phase.phase !== "registered" && phase.phase !== "checking") return;
    const hc = Atomics.load(this.block, INST_HC_STATE);
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
