// Whether a terminated instance's thread really went away. Deno 2.7 to 2.9 leave two kinds
// behind: one spinning in a busy loop (it burns a core) and one asleep in Atomics.wait; both
// keep what they hold (sockets, memory). The verdict decides whether supervision can go on
// beside the thread or must hand over (hand_over.ts).
import { runtime } from "../platform/runtime.ts";

/** What became of a terminated instance's thread ("unknown": it cannot be seen). */
export type ThreadVerdict = "stopped" | "sleeping" | "spinning" | "unknown";

/** How a thread is watched. */
export interface ThreadWatchOptions {
  /** How long the thread has to go away. */
  graceMs: number;
  /** How often to look. */
  pollMs: number;
  /** CPU time a thread must use within the grace to count as spinning (ticks are 10 ms). */
  spinMs: number;
}

/**
 * How a terminated instance's thread is watched. A thread that terminate() stops is gone in
 * a few ms; one still there after the grace is stuck, and is spinning when it was seen running.
 */
const THREAD_WATCH: ThreadWatchOptions = { graceMs: 30, pollMs: 2, spinMs: 20 };

/**
 * Where terminate() may leave a thread running (Deno), the next instance waits for the
 * verdict on the last one's thread: a stuck thread keeps what it holds, so the next instance
 * starts in a new image of the process instead. Elsewhere no thread is ever handed over for,
 * and the watch only reports.
 */
export const VERDICT_FIRST = !runtime.terminateInterruptsCode;

/**
 * Watches thread `tid` of this process after its Worker was terminated. A thread that stays
 * is spinning when it ran at any look or used `spinMs` of CPU meanwhile, else asleep.
 */
export function watchThread(tid: number, options: ThreadWatchOptions): Promise<ThreadVerdict> {
  const first = runtime.threadSample(tid);
  if (first === "gone") return Promise.resolve("stopped");
  if (first === "unknown") return Promise.resolve("unknown");
  const since = performance.now();
  // Only later looks count: right after terminate() a thread may still be on its way out.
  let ran = false;
  return new Promise((resolve) => {
    const look = () => {
      const sample = runtime.threadSample(tid);
      if (sample === "gone") return resolve("stopped");
      if (sample === "unknown") return resolve("unknown");
      ran ||= sample.running;
      if (performance.now() - since < options.graceMs) {
        return void setTimeout(look, options.pollMs);
      }
      resolve(ran || sample.cpuMs - first.cpuMs >= options.spinMs ? "spinning" : "sleeping");
    };
    setTimeout(look, options.pollMs);
  });
}

/**
 * Watches a terminated instance's thread `threadId` (0: not known); `report` hears a seen
 * verdict. A thread that cannot be seen may be stuck where the runtime may leave it running:
 * "unknown" there; elsewhere no verdict (null).
 */
export function watchTerminated(
  threadId: number,
  report: (verdict: Exclude<ThreadVerdict, "unknown">, threadId: number) => void,
): Promise<ThreadVerdict> | null {
  if (threadId <= 0) return VERDICT_FIRST ? Promise.resolve("unknown") : null;
  return watchThread(threadId, THREAD_WATCH).then((verdict) => {
    if (verdict !== "unknown") report(verdict, threadId);
    return verdict;
  });
}
