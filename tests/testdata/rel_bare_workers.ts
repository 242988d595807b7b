// The baseline of the restart storm (rel_storm.ts): what the runtime's own Workers cost, with
// no sam in them. Starts REL_STORM_COUNT (default 1,000) node:worker_threads Workers one after
// the other, each ending at once with code 1 as a storm instance does, measures this process's memory
// after a full GC at Worker 100 and at the last one, prints one line of figures and ends.
import process from "node:process";
import { Worker } from "node:worker_threads";

const count = Number(process.env.REL_STORM_COUNT ?? 1000);
const collect = () => {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  g.gc?.();
  g.Bun?.gc(true);
};
const mib = (n: number) => (n / 1048576).toFixed(1);
const CRASH = new URL("./rel_bare_worker.mjs", import.meta.url);

const rss: Record<number, number> = {};
const started = performance.now();
for (let i = 1; i <= count; i++) {
  const worker = new Worker(CRASH);
  await new Promise<void>((resolve) => {
    worker.on("error", () => {}); // none expected: a crash of the baseline is not a figure
    worker.once("exit", () => resolve());
  });
  if (i === 100 || i === count) {
    collect();
    rss[i] = process.memoryUsage().rss;
  }
}
const seconds = (performance.now() - started) / 1000;
console.log(
  `bare workers ${count} rss@100 ${mib(rss[100])} MiB rss@${count} ${mib(rss[count])} MiB ` +
    `growth ${mib(rss[count] - rss[100])} MiB in ${seconds.toFixed(1)} s`,
);
