// The supervisor's log: one line per recovery step, and the events of a libsam-style program.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RecoveryPolicy, supervise } from "../mod.ts";
import { runApp } from "./harness/helpers.ts";

test("register() logs each recovery step on stderr, with the instance id and the reason", async () => {
  const r = await runApp("log_app.ts");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.log, [
    "instance 1 missed its health-check deadline",
    "instance 1 warned with SIGTERM",
    "instance 1 terminated, code 137 (SIGKILL)",
    "instance 1 ended with code 137 (SIGKILL)",
    "instance 2 starts (a restart)",
    "instance 2 ended with code 1",
    "instance 3 starts (a restart)",
    "instance 3 ended with code 0",
    "supervision ended (exited), code 0",
  ]);
});

test("initialize() with log: false writes no log line", async () => {
  const r = await runApp("log_app.ts", { SAM_LOG: "0" });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.log, []);
});

test("initialize()'s onEvent hears the supervisor's events on the main thread", async () => {
  const r = await runApp("log_app.ts", { SAM_LOG: "events" });
  assert.equal(r.code, 0, r.stderr);
  const events = r.lines.filter((l) => l.startsWith("event ")).map((l) => l.slice(6));
  for (const type of ["instance", "registered", "late", "warning", "terminated", "restart"]) {
    assert.ok(events.includes(type), `no ${type} event in ${events}`);
  }
  assert.equal(events.at(-1), "end");
});

test("supervise() logs nothing by default, and each step to a log function", async () => {
  const lines: string[] = [];
  await using supervisor = supervise(new URL("./testdata/crash_app.ts", import.meta.url), {
    timeInterval: 0,
    recoveryPolicy: RecoveryPolicy.RESTART,
    maxRestarts: 1,
    log: (line) => lines.push(line),
  });
  assert.equal((await supervisor.done).reason, "restart-limit");
  assert.deepEqual(lines, [
    "instance 1 ended with code 1",
    "instance 2 starts (a restart)",
    "instance 2 ended with code 1",
    "supervision ended (restart-limit), code 1",
  ]);
});
