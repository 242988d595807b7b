import { test } from "node:test";
import assert from "node:assert/strict";
import { runApp } from "./_helpers.ts";

test("register() survives 1,000 crash-restarts in a row with flat memory and nothing left behind", async () => {
  // The fixture ends by itself: a Worker, timer or listener left behind would keep it alive
  // until runApp() kills it, which the exit code shows.
  const r = await runApp("storm.ts", {}, 180_000);
  console.log(r.lines.at(-1));
  const m = r.stdout.match(
    /end (\S+) (\d+) instances (\d+) rss@100 ([\d.]+) MiB rss@1000 ([\d.]+) MiB growth (-?[\d.]+) MiB \(heap ([\d.]+) -> ([\d.]+) MiB\)/,
  );
  assert.ok(m, r.stdout + r.stderr.slice(-2000));
  const [, reason, code, instances, , , growth, heapBefore, heapAfter] = m;
  assert.equal(reason, "restart-limit");
  assert.equal(code, "1");
  assert.equal(instances, "1001");
  // Measured: RSS grows 5 to 13 MiB from restart 100 to 1,000 (the allocators of 1,000 threads),
  // while the JavaScript heap stays within 0.5 MiB.
  assert.ok(Number(growth) <= 24, `RSS grew ${growth} MiB`);
  assert.ok(Number(heapAfter) - Number(heapBefore) <= 2, `heap ${heapBefore} -> ${heapAfter} MiB`);
  assert.equal(r.code, 0);
});
