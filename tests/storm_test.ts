// A restart storm under supervise(), in its own process (tests/testdata/rel_storm.ts): the
// process must keep its memory and end by itself once supervision ends.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runApp } from "./harness/helpers.ts";

/**
 * What sam's RSS may grow by beyond the runtime's own Workers over restarts 100 to 1,000: the
 * allocators of that many threads are noisy from one run to the next, while keeping even a
 * tenth of the 256 KiB value per restart would add about 22 MiB more, and all of it 225 MiB.
 */
const RSS_MARGIN_MIB = 20;

/** RSS growth of 1,000 bare Workers started one after the other, as rel_rss.ts measures it. */
async function bareWorkersGrowthMib(): Promise<number> {
  const r = await runApp("rel_bare_workers.ts", { REL_STORM_COUNT: "1000" }, 90_000);
  const line = r.lines.find((l) => l.startsWith("bare workers "));
  console.log(line);
  const m = line?.match(/ growth (-?[\d.]+) MiB/);
  assert.ok(m && r.code === 0, `no baseline: ${r.stdout}${r.stderr.slice(-2000)}`);
  return Number(m[1]);
}

test(
  "supervise() survives 1,000 crash-restarts in a row, carrying 256 KiB along, with bounded memory and no Worker left",
  { timeout: 240_000 },
  async () => {
    // The runtime's own Workers first, in a process of their own: the bound is relative to what
    // this runtime's threads cost on this machine now, not a figure measured elsewhere.
    const bare = await bareWorkersGrowthMib();
    // runApp() resolves once the process's output closes; a Worker, timer or listener left
    // behind would keep the process alive until runApp() kills it, which the exit code shows.
    const r = await runApp("rel_storm.ts", { REL_STORM_COUNT: "1000" }, 140_000);
    const line = r.lines.find((l) => l.startsWith("restarts "));
    console.log(line);
    assert.ok(line, `no figures: ${r.stdout}${r.stderr.slice(-2000)}`);
    const m = line.match(
      /^restarts (\d+) ordered (\w+) end (\S+) (\d+) exit codes (\{.*\}) stored count (-?\d+) whole (\w+) rss early ([\d.]+) MiB late ([\d.]+) MiB growth (-?[\d.]+) MiB heap ([\d.]+) -> ([\d.]+) MiB/,
    );
    assert.ok(m, line);
    const [, restarts, ordered, reason, , codes, count, whole, , , growth, heap0, heap1] = m;
    assert.equal(restarts, "1000");
    assert.equal(ordered, "true", "instance ids did not grow one by one");
    assert.equal(reason, "stopped");
    // Instances 1 to 1,000 threw (1); the last one was stopped at once.
    const exits = JSON.parse(codes) as Record<string, number>;
    assert.equal(exits["1"], 1000, codes);
    assert.equal(Object.values(exits).reduce((a, b) => a + b, 0), 1001, codes);
    // Each instance checked what it restored byte for byte (else it ends with code 2).
    assert.ok(["1000", "1001"].includes(count), `stored count ${count}`);
    assert.equal(whole, "true");
    // RSS grows with the allocators of 1,000 threads that came and went, as bare Workers' does;
    // the JavaScript heap stays flat.
    const bound = Math.max(bare, 0) + RSS_MARGIN_MIB;
    assert.ok(
      Number(growth) < bound,
      `RSS grew ${growth} MiB over restarts 100 to 1,000; bare Workers ${bare} MiB, bound ${bound}`,
    );
    assert.ok(Number(heap1) - Number(heap0) < 2, `heap ${heap0} -> ${heap1} MiB`);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
  },
);
