import { test } from "node:test";
import assert from "node:assert/strict";
import { runApp } from "./harness/helpers.ts";

test("register() restarts instances that stop answering, then every call fails after finalize()", async () => {
  const r = await runApp("basics.ts");
  assert.deepEqual(r.lines.filter((l) => l.startsWith("iid")), [
    "iid 1",
    "iid 2",
    "iid 2: still here after a stopped pause",
    "iid 3",
  ]);
  assert.ok(r.lines.includes("initialize again: 9"), r.stdout);
  assert.ok(r.lines.includes("stop: ok") && r.lines.includes("finalize: ok"), r.stdout);
  assert.ok(r.lines.includes("finalize again: 9"), r.stdout);
  assert.ok(r.lines.includes("after finalize: 9,9,9,9,9,9"), r.stdout);
  assert.equal(r.code, 0, r.stderr);
});

test("addSignalListener() hears the warning, and the instance is terminated anyway under quit", async () => {
  const r = await runApp("signal.ts");
  assert.deepEqual(r.lines, ["iid 1", "signal delivered"]);
  assert.equal(r.code, 137);
});

test("register() restarts an instance that crashes 20 times, with ids 1 to 21", async () => {
  const r = await runApp("smoke.ts");
  assert.deepEqual(r.lines, Array.from({ length: 21 }, (_, i) => `iid ${i + 1}`));
  assert.equal(r.code, 0);
});

test("dataStore() data survives instances, with libsam's error codes on every bad call", async () => {
  const r = await runApp("data.ts");
  assert.deepEqual(r.lines, ["iid 1", "failures 0", "iid 2", "failures 0", "iid 3", "failures 0"]);
  assert.equal(r.code, 0);
});

test("warnSignalSet() stays for later instances, and SIGKILL terminates without a warning", async () => {
  const r = await runApp("warn_signal.ts");
  assert.deepEqual(r.lines, [
    'iid 1 restored ""',
    "iid 1 warned with SIGUSR1",
    'iid 2 restored "warned 1"',
    "iid 2 warned with SIGUSR1",
    'iid 3 restored "warned 2"',
    'iid 4 restored "warned 2"',
  ]);
  assert.equal(r.code, 0);
});
