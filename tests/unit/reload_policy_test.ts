// Reload's pure functions (supervisor/reload.ts), without Workers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { incomingFailure, reloadGate } from "../../supervisor/reload.ts";

test("reloadGate() begins a reload only with an instance running, one at a time, not while stopping", () => {
  const facts = { running: true, stopping: false, reloading: false };
  assert.deepEqual(reloadGate(facts), { action: "begin" });
  assert.deepEqual(reloadGate({ ...facts, running: false }), {
    action: "refuse",
    reason: "not-running",
  });
  assert.deepEqual(reloadGate({ ...facts, reloading: true }), {
    action: "refuse",
    reason: "in-progress",
  });
  assert.deepEqual(reloadGate({ ...facts, stopping: true, reloading: true }), {
    action: "refuse",
    reason: "stopping",
  });
});

test("incomingFailure() names why a reload's instance never took over", () => {
  assert.equal(incomingFailure("itself", "other"), "ended");
  assert.equal(incomingFailure("itself", "timeout"), "ended");
  assert.equal(incomingFailure("supervisor", "timeout"), "timeout");
  assert.equal(incomingFailure("supervisor", "stop"), "stopped");
});
