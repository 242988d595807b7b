// RSS samples of a restart storm (rel_storm.ts) and of its baseline (rel_bare_workers.ts),
// taken the same way in both: after a full GC at every 50th Worker from the 100th on. One
// sample moves by several MiB from one to the next (the allocators of threads that came and
// went), so growth is the median of the last fifth of the samples minus that of the first
// fifth: a leak raises both windows' medians apart, noise does not.
import process from "node:process";

const EVERY = 50;
const FIRST = 100;

/** The samples of one run: RSS and JavaScript heap in bytes, by Worker count. */
export class RssSamples {
  readonly #samples: { at: number; rss: number; heap: number }[] = [];
  readonly count: number;

  /** `count`: how many Workers the run starts; the last one is always sampled. */
  constructor(count: number) {
    this.count = count;
  }

  /** Takes a sample if `at` (1 to count) is one of the counts sampled. */
  maybeSample(at: number): void {
    if (at < FIRST || (at % EVERY !== 0 && at !== this.count)) return;
    const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
    g.gc?.();
    g.Bun?.gc(true);
    const { rss, heapUsed } = process.memoryUsage();
    this.#samples.push({ at, rss, heap: heapUsed });
  }

  /** "rss early X MiB late Y MiB growth Z MiB heap A -> B MiB" (A, B: first and last sample). */
  summary(): string {
    const s = this.#samples;
    const window = Math.max(1, Math.round(s.length / 5));
    const median = (xs: number[]) => {
      const sorted = xs.slice().sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    };
    const early = median(s.slice(0, window).map((x) => x.rss));
    const late = median(s.slice(-window).map((x) => x.rss));
    const mib = (n: number) => (n / 1048576).toFixed(1);
    return `rss early ${mib(early)} MiB late ${mib(late)} MiB growth ${mib(late - early)} MiB ` +
      `heap ${mib(s[0].heap)} -> ${mib(s[s.length - 1].heap)} MiB`;
  }
}
