// Whether a terminated instance's thread really went away. Deno 2.7 to 2.9 leave two kinds
// behind: one spinning in a busy loop (it burns a core) and one asleep in Atomics.wait; both
// keep what they hold (sockets, memory).
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
