// The standby: the next instance's Worker, spawned ahead once the current instance no longer
// needs the CPU, so that a recovery only wakes it. By default it also runs the application
// ahead, up to its register() (the replay part), as a fork of the supervisor would find it.
import type { Instance, InstanceOwner } from "./instance.ts";
import type { RegionKeeper } from "./region_keeper.ts";
import { prerunFailed, replayWasRead } from "../shared_memory/protocol.ts";
import type { DataRegionHandles } from "../shared_memory/region.ts";

/**
 * How long after an instance registered its successor's Worker is spawned: spawning takes a
 * core for a while, which the instance's own start-up needs more.
 */
const STANDBY_DELAY_MS = 20;

/** Why a standby was not used. */
export type StandbyDrop = "prerun-failed" | "stale-read" | "ended";

/** How the standby is made, and who hears of one that is dropped. */
export interface StandbyConfig {
  /** Whether to keep a standby at all. */
  enabled: boolean;
  /** Whether it runs the application ahead. */
  prerun: boolean;
  /** The stored data. */
  keeper: RegionKeeper;
  /**
   * Spawns a Worker acting on `region` (told to `owner`, the engine when not given) that reads
   * `replay` until the data is its own; with `prerun`, one that runs ahead until activated.
   */
  spawn(
    region: DataRegionHandles,
    replay: DataRegionHandles | null,
    prerun: boolean,
    owner?: InstanceOwner,
  ): Instance;
  /** A standby was dropped; the recovery falls back to a fresh Worker. */
  dropped(reason: StandbyDrop): void;
}

/** Where the next instance comes from: the standby, or else a Worker spawned there and then. */
export class Standby {
  readonly #config: StandbyConfig;
  #prerun: boolean;
  #waiting: { inst: Instance; version: number } | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(config: StandbyConfig) {
    this.#config = config;
    this.#prerun = config.prerun;
  }

  /** Spawns the standby a moment from now, unless there is one. */
  prepareSoon(): void {
    if (!this.#config.enabled || this.#waiting !== null) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (this.#waiting !== null) return;
      try {
        // On the region the next rehome moves the value into.
        const { keeper, spawn } = this.#config;
        const prerun = this.#prerun;
        const inst = spawn(keeper.nextHandles, prerun ? keeper.region.handles : null, prerun);
        // A standby must not keep a finished program alive.
        inst.worker.unref();
        this.#waiting = { inst, version: keeper.version() };
      } catch {
        // No standby: the next recovery spawns its Worker itself.
      }
    }, STANDBY_DELAY_MS);
  }

  /**
   * The next instance, to be instance `id`: the standby when it can become it, else a Worker
   * spawned now; null (and a line on stderr) when no Worker can be started at all (on Deno,
   * for example, no read permission for worker_shim.ts).
   */
  next(id: number): Instance | null {
    const { region } = this.#config.keeper;
    try {
      return this.#take(region.header.buffer as SharedArrayBuffer) ??
        this.#config.spawn(region.handles, null, false);
    } catch (error) {
      console.error(`sam: cannot start instance ${id}: ${error}`);
      return null;
    }
  }

  /**
   * The standby, when it can become the next instance: still there, given the region whose
   * header is `header`, its pre-run (if any) not failed and its reads of the stored data
   * still true. Otherwise it is dismissed and null returned.
   */
  #take(header: SharedArrayBuffer): Instance | null {
    clearTimeout(this.#timer);
    const waiting = this.#waiting;
    this.#waiting = null;
    if (waiting === null) return null;
    const { inst } = waiting;
    const drop = this.#why(waiting, header);
    if (drop === null) return inst;
    inst.dismiss();
    if (drop !== "region") this.#drop(inst, drop);
    return null;
  }

  #why(waiting: { inst: Instance; version: number }, header: SharedArrayBuffer) {
    const { inst } = waiting;
    if (inst.exitCode !== null) return inst.prerun ? "prerun-failed" : "ended";
    // Not the region the value is in now (it was reset or rehomed twice): start afresh.
    if (inst.regionHeader !== header) return "region";
    if (!inst.prerun) return null;
    if (prerunFailed(inst.block)) return "prerun-failed";
    if (replayWasRead(inst.block) && this.#config.keeper.version() !== waiting.version) {
      return "stale-read";
    }
    return null;
  }

  #drop(inst: Instance, reason: StandbyDrop): void {
    // A program whose pre-run fails once is not run ahead again: it has side effects (a
    // port it listens on, say) that only one instance at a time may have.
    if (reason === "prerun-failed" && inst.prerun) this.#prerun = false;
    this.#config.dropped(reason);
  }

  /**
   * The Worker of a reload's instance, told to `owner`: it loads the program's files as they
   * are now (the standby ran them as they were, so it goes), acts on the region the next rehome
   * moves the value into, and reads the value as it is until then.
   *
   * @throws What spawning a Worker throws.
   */
  forReload(owner: InstanceOwner): Instance {
    this.close();
    const { keeper, spawn } = this.#config;
    return spawn(keeper.nextHandles, keeper.region.handles, false, owner);
  }

  /** Forgets a standby whose Worker went away. */
  lost(inst: Instance): void {
    if (this.#waiting?.inst !== inst) return;
    this.#waiting = null;
    this.#drop(inst, inst.prerun ? "prerun-failed" : "ended");
  }

  /** Ends the standby, if any. */
  close(): void {
    clearTimeout(this.#timer);
    const waiting = this.#waiting;
    // Forgotten first: Deno reports the Worker's exit inside terminate().
    this.#waiting = null;
    waiting?.inst.dismiss();
  }
}
