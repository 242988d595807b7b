// What follows a stuck thread (one that terminate() did not stop: Deno 2.7 to 2.9, see
// thread_watch.ts): supervision goes on beside it, hands over to a new image of the process
// (exec.ts, respawn.ts) carrying its state (state.ts), or ends the process for its service
// manager to start it again.
import type { SupervisorEnd, SupervisorEventDetails } from "../events.ts";
import type { DataRegion } from "../shared_memory/region.ts";
import { execHandOver, execUnavailable, takeExecHandOver } from "./exec.ts";
import { respawn, takeRespawnedState } from "./respawn.ts";
import type { HandOverState, HandOverStrategy } from "./state.ts";
import { type ThreadVerdict, VERDICT_FIRST, watchTerminated } from "./thread_watch.ts";

export type { HandOverStrategy } from "./state.ts";

/** Exit code when a stuck thread cannot be left behind by a hand-over (sysexits' EX_SOFTWARE). */
export const EXIT_STUCK_THREAD = 70;

/** What a stuck thread leads to. */
export type StuckPolicy =
  | { action: "go-on" }
  | { action: "hand-over"; strategy: HandOverStrategy }
  | { action: "exit"; why: string };

/**
 * What a stuck thread leads to under the `handOver` option: a hand-over only where sam owns
 * the process (`mainThread`, the libsam style); exec where it can, else the exit.
 */
export function stuckPolicy(
  mainThread: boolean,
  option: "exec" | "respawn" | "none" | undefined,
): StuckPolicy {
  const handOver = mainThread ? option ?? "exec" : "none";
  if (handOver === "none") return { action: "go-on" };
  if (handOver === "respawn") return { action: "hand-over", strategy: respawn };
  const why = execUnavailable();
  return why === null ? { action: "hand-over", strategy: execHandOver } : { action: "exit", why };
}

/** The state an earlier image of this program handed over (exec or respawn), taken once. */
export function takeCarriedState(): HandOverState | null {
  return takeExecHandOver() ?? takeRespawnedState();
}

/** What a log line says of a terminated instance's thread that did not go away. */
function threadIs(id: number, verdict: ThreadVerdict): string {
  return verdict === "unknown"
    ? `whether the thread of instance ${id} stopped cannot be seen (no access to /proc)`
    : `the thread of instance ${id} is ${verdict} after termination and keeps what it holds`;
}

/** Says on stderr why the process ends with EXIT_STUCK_THREAD. */
function cannotLeaveBehind(id: number, verdict: ThreadVerdict, why: string): void {
  console.error(
    `sam: ${
      threadIs(id, verdict)
    }; ${why}, so the process ends with code ${EXIT_STUCK_THREAD} for its service manager to start it again`,
  );
}

/** What supervision carries into a new image, as the engine has it; `lastId` is the stuck one. */
export type Carried = Omit<HandOverState, "data"> & { data: DataRegion; lastId: number };

/** How the supervisor hears of terminated instances' threads and of a hand-over. */
export type ThreadEvents = <K extends "thread-stopped" | "stuck-thread" | "handover">(
  type: K,
  detail: SupervisorEventDetails[K],
) => void;

/** The supervisor's hold on its terminated instances' threads, and on what a stuck one leads to. */
export class StuckThreads {
  #count: number;
  readonly #policy: StuckPolicy;
  readonly #tell: ThreadEvents;

  /** `count` stuck threads so far (an earlier image's), `policy` for the next. */
  constructor(count: number, policy: StuckPolicy, tell: ThreadEvents) {
    this.#count = count;
    this.#policy = policy;
    this.#tell = tell;
  }

  /** Terminated instances' threads that the runtime did not stop, so far. */
  get count(): number {
    return this.#count;
  }

  /**
   * Watches the thread `threadId` of terminated instance `id`, telling what became of it.
   * Returns the verdict where the next instance waits for it (where the runtime may leave a
   * thread running); elsewhere null: the watch only reports.
   */
  watch(id: number, threadId: number): Promise<ThreadVerdict> | null {
    const verdict = watchTerminated(threadId, (seen, tid) => {
      if (seen === "stopped") return this.#tell("thread-stopped", { id, threadId: tid });
      this.#count++;
      this.#tell("stuck-thread", { id, threadId: tid, spinning: seen === "spinning" });
    });
    return VERDICT_FIRST ? verdict : null;
  }

  /** Whether supervision goes on in this image after `verdict`. */
  goesOn(verdict: ThreadVerdict): boolean {
    return verdict === "stopped" || this.#policy.action === "go-on";
  }

  /**
   * Leaves a stuck thread behind: hands supervision over (told first), or says why it
   * cannot; `at` is supervision as it stands, `restartTimes` when its restarts were
   * (performance.now() ms). Resolves how supervision ends in this image; with exec it never
   * resolves: this image is gone. (Never called where goesOn() said so.)
   */
  leaveBehind(
    verdict: ThreadVerdict,
    at: { lastId: number; warnSignal: number; data: DataRegion },
    restartTimes: readonly number[],
  ): Promise<SupervisorEnd> {
    const policy = this.#policy;
    if (policy.action === "go-on") return Promise.resolve({ code: 0, reason: "stopped" });
    const now = performance.now();
    const carried = {
      ...at,
      nextId: at.lastId + 1,
      restartAges: restartTimes.map((t) => now - t),
      stuckThreads: this.#count,
    };
    return leaveBehind(policy, verdict, carried, (kind) => {
      this.#tell("handover", { id: carried.nextId, kind });
    });
  }
}

/**
 * Leaves the stuck thread behind as `stuck` says: hands supervision over (`announce` hears of
 * it first), or says why it cannot. Resolves how supervision ends in this image; with exec it
 * never resolves: this image is gone.
 */
async function leaveBehind(
  stuck: Exclude<StuckPolicy, { action: "go-on" }>,
  verdict: ThreadVerdict,
  carried: Carried,
  announce: (kind: string) => void,
): Promise<SupervisorEnd> {
  const failed: SupervisorEnd = { code: EXIT_STUCK_THREAD, reason: "stuck-thread" };
  if (stuck.action === "exit") {
    cannotLeaveBehind(carried.lastId, verdict, stuck.why);
    return failed;
  }
  announce(stuck.strategy.kind);
  const { lastId, ...state } = carried;
  return await handOver(stuck.strategy, verdict, lastId, state)
    ? { code: 0, reason: "respawned" }
    : failed;
}

/**
 * Hands supervision over by `strategy`, the stored data copied out of `data`; resolves
 * whether the new image runs.
 */
async function handOver(
  strategy: HandOverStrategy,
  verdict: ThreadVerdict,
  id: number,
  state: Omit<HandOverState, "data"> & { data: DataRegion },
): Promise<boolean> {
  console.error(
    `sam: ${
      threadIs(id, verdict)
    }; instance ${state.nextId} starts in a new image of the process (${strategy.kind})`,
  );
  let data: Uint8Array = new Uint8Array(0);
  try {
    data = state.data.snapshot();
  } catch {
    // A corrupt region is carried over as empty, as after any corrupt header.
  }
  const why = await strategy.handOver({ ...state, data });
  if (why === null) return true;
  console.error(
    `sam: the hand-over failed (${why}); the process ends with code ${EXIT_STUCK_THREAD} for its service manager to start it again`,
  );
  return false;
}
