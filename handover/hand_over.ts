// What follows a stuck thread (one that terminate() did not stop: Deno 2.7 to 2.9, see
// thread_watch.ts): supervision goes on beside it, hands over to a new image of the process
// (exec.ts, respawn.ts) carrying its state (state.ts), or ends the process for its service
// manager to start it again.
import type { DataRegion } from "../shared_memory/region.ts";
import { execHandOver, execUnavailable, takeExecHandOver } from "./exec.ts";
import { respawn, takeRespawnedState } from "./respawn.ts";
import type { HandOverState, HandOverStrategy } from "./state.ts";
import type { ThreadVerdict } from "./thread_watch.ts";

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
export function cannotLeaveBehind(id: number, verdict: ThreadVerdict, why: string): void {
  console.error(
    `sam: ${
      threadIs(id, verdict)
    }; ${why}, so the process ends with code ${EXIT_STUCK_THREAD} for its service manager to start it again`,
  );
}

/**
 * Hands supervision over by `strategy`, the stored data copied out of `data`; resolves
 * whether the new image runs (with exec it never resolves: this image is gone).
 */
export async function handOver(
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
