// Threads that terminate() did not stop (Deno 2.7 to 2.9: a busy loop spins on, an endless
// Atomics.wait sleeps on, and either keeps what it holds, such as a listening socket): the
// verdict on a terminated instance's thread, and what follows a stuck one.
import type { HandOverState, HandOverStrategy } from "./state.ts";
import type { Instance } from "../supervisor/instance.ts";
import type { DataRegion } from "../shared_memory/region.ts";
import { runtime } from "../platform/runtime.ts";
import { type ThreadVerdict, watchThread } from "./thread_watch.ts";

/**
 * How a terminated instance's thread is watched. A thread that terminate() stops is gone in
 * a few ms; one still there after the grace is stuck, and is spinning when it was seen running.
 */
const THREAD_WATCH = { graceMs: 30, pollMs: 2, spinMs: 20 };

/**
 * Where terminate() may leave a thread running (Deno), the next instance waits for the
 * verdict on the last one's thread: a stuck thread keeps what it holds, so the next instance
 * starts in a new image of the process instead. Elsewhere no thread is ever handed over for,
 * and the watch only reports.
 */
export const VERDICT_FIRST = !runtime.terminateInterruptsCode;

/** Exit code when a stuck thread cannot be left behind by a hand-over (sysexits' EX_SOFTWARE). */
export const EXIT_STUCK_THREAD = 70;

/** What a stuck thread leads to. */
export type StuckPolicy =
  | { action: "go-on" }
  | { action: "hand-over"; strategy: HandOverStrategy }
  | { action: "exit"; why: string };

/**
 * Watches a terminated instance's thread; `report` hears a seen verdict. A thread that
 * cannot be seen may be stuck where the runtime may leave it running: "unknown" there.
 */
export function watchTerminated(
  inst: Instance,
  report: (verdict: Exclude<ThreadVerdict, "unknown">, threadId: number) => void,
): Promise<ThreadVerdict> | null {
  const threadId = inst.threadId;
  if (threadId <= 0) return VERDICT_FIRST ? Promise.resolve("unknown") : null;
  return watchThread(threadId, THREAD_WATCH).then((verdict) => {
    if (verdict !== "unknown") report(verdict, threadId);
    return verdict;
  });
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
