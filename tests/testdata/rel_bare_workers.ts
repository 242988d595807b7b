// The baseline of the restart storm (rel_storm.ts): what the runtime's own Workers cost, with
// no sam in them. Starts REL_STORM_COUNT (default 1,000) node:worker_threads Workers one after
// the other, each ending at once with code 1 as a storm instance does, measures this process's memory
// as the storm does (rel_rss.ts), prints one line of figures and ends.
import process from "node:process";
import { Worker } from "node:worker_threads";
import { RssSamples } from "./rel_rss.ts";

const count = Number(process.env.REL_STORM_COUNT ?? 1000);
const CRASH = new URL("./rel_bare_worker.mjs", import.meta.url);

const memory = new RssSamples(count);
const started = performance.now();
for (let i = 1; i <= count; i++) {
  const worker = new Worker(CRASH);
  await new Promise<void>((resolve) => {
    worker.on("error", () => {}); // none expected: a crash of the baseline is not a figure
    worker.once("exit", () => resolve());
  });
  memory.maybeSample(i);
}
const seconds = (performance.now() - started) / 1000;
console.log(`bare workers ${count} ${memory.summary()} in ${seconds.toFixed(1)} s`);
