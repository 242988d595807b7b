// A restart storm under supervise(), in its own process (tests/testdata/rel_storm.ts): the
// process must keep its memory and end by itself once supervision ends.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runApp } from "./_helpers.ts";

test(
  "supervise() survives 1,000 crash-restarts in a row, carrying 256 KiB along, with bounded memory and no Worker left",
  { timeout: 150_000 },
  async () => {
    // runApp() resolves once the process's output closes; a Worker, timer or listener left
    // behind would keep the process alive until runApp() kills it, which the exit code shows.
    const r = await runApp("rel_storm.ts", { REL_STORM_COUNT: "1000" }, 140_000);
    const line = r.lines.find((l) => l.startsWith("restarts "));
    console.log(line);
    assert.ok(line, `no figures: ${r.stdout}${r.stderr.slice(-2000)}`);
    const m = line.match(
      /^restarts (\d+) ordered (\w+) end (\S+) (\d+) exit codes (\{.*\}) stored count (-?\d+) whole (\w+) rss@100 ([\d.]+) MiB rss@1000 ([\d.]+) MiB growth (-?[\d.]+) MiB heap ([\d.]+) -> ([\d.]+) MiB/,
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
    // Measured: RSS -2 to +15 MiB (the allocators of 1,000 threads that came and went), the
    // JavaScript heap within 0.5 MiB.
    assert.ok(Number(growth) < 24, `RSS grew ${growth} MiB from restart 100 to 1,000`);
    assert.ok(Number(heap1) - Number(heap0) < 2, `heap ${heap0} -> ${heap1} MiB`);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
  },
);
