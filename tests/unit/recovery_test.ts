// The recovery policy's pure functions, with the clock passed in: no Workers, no sleeps.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  backoffDelay,
  decideAfterEnd,
  DEFAULT_RESTART_LIMITS,
  endCode,
  escalate,
  planRestart,
  type RestartLimits,
} from "../../supervisor/recovery.ts";

const facts = {
  checking: true,
  corrupt: false,
  markedFailed: false,
  stopping: false,
  restart: true,
};

test("decideAfterEnd() restarts an instance that failed while checking under RESTART", () => {
  assert.deepEqual(decideAfterEnd(facts), { action: "restart" });
});

test("decideAfterEnd() quits for an instance that failed while checking under QUIT", () => {
  assert.deepEqual(decideAfterEnd({ ...facts, restart: false }), {
    action: "finish",
    reason: "quit",
  });
});

test("decideAfterEnd() ends supervision as exited for an instance that ended while stopped", () => {
  assert.deepEqual(decideAfterEnd({ ...facts, checking: false }), {
    action: "finish",
    reason: "exited",
  });
});

test("decideAfterEnd() recovers an instance that left a corrupt header, even while stopped", () => {
  assert.deepEqual(decideAfterEnd({ ...facts, checking: false, corrupt: true }), {
    action: "restart",
  });
});

test("decideAfterEnd() puts markFailed() before stop() and stop() before the policy", () => {
  assert.deepEqual(decideAfterEnd({ ...facts, markedFailed: true, stopping: true }), {
    action: "finish",
    reason: "failed",
  });
  assert.deepEqual(decideAfterEnd({ ...facts, stopping: true }), {
    action: "finish",
    reason: "stopped",
  });
});

test("decideAfterEnd() hands over to a reload's instance whatever the policy, unless supervision is to end", () => {
  const reloading = { ...facts, reloading: true };
  assert.deepEqual(decideAfterEnd(reloading), { action: "take-over" });
  assert.deepEqual(decideAfterEnd({ ...reloading, restart: false, checking: false }), {
    action: "take-over",
  });
  assert.deepEqual(decideAfterEnd({ ...reloading, stopping: true }), {
    action: "finish",
    reason: "stopped",
  });
  assert.deepEqual(decideAfterEnd({ ...reloading, markedFailed: true, stopping: true }), {
    action: "finish",
    reason: "failed",
  });
});

const limits: RestartLimits = {
  maxRestarts: 3,
  restartWindow: 1000,
  restartDelay: 0,
  restartDelayMax: 30_000,
};

test("planRestart() allows maxRestarts restarts within the window, then gives up", () => {
  let history: readonly number[] = [];
  for (const now of [0, 10, 20]) {
    const plan = planRestart(history, now, limits);
    assert.equal(plan.action, "restart");
    if (plan.action === "restart") history = plan.history;
  }
  assert.deepEqual(history, [0, 10, 20]);
  assert.deepEqual(planRestart(history, 30, limits), { action: "give-up", recent: 3 });
});

test("planRestart() forgets restarts older than the window", () => {
  const plan = planRestart([0, 10, 20], 1010, limits);
  assert.deepEqual(plan, { action: "restart", delay: 0, history: [20, 1010] });
});

test("planRestart() with maxRestarts 0 never restarts", () => {
  assert.deepEqual(planRestart([], 0, { ...limits, maxRestarts: 0 }), {
    action: "give-up",
    recent: 0,
  });
});

test("planRestart() under the default limits always restarts at once, as libsam", () => {
  const history = Array.from({ length: 1000 }, (_, i) => i);
  const plan = planRestart(history, 1000, DEFAULT_RESTART_LIMITS);
  assert.equal(plan.action, "restart");
  assert.equal(plan.action === "restart" && plan.delay, 0);
});

test("backoffDelay() doubles from restartDelay and caps at restartDelayMax", () => {
  const backoff = { ...limits, restartDelay: 100, restartDelayMax: 700 };
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffDelay(n, backoff)), [100, 200, 400, 700, 700]);
  assert.equal(backoffDelay(3, limits), 0);
});

test("planRestart() delays the nth restart within the window by the doubled delay", () => {
  const backoff = { ...limits, restartDelay: 40 };
  const plan = planRestart([0, 5], 10, backoff);
  assert.deepEqual(plan, { action: "restart", delay: 160, history: [0, 5, 10] });
});

test("endCode() never ends a restart-limit with 0, and keeps other codes", () => {
  assert.equal(endCode("restart-limit", 0), 1);
  assert.equal(endCode("restart-limit", 137), 137);
  assert.equal(endCode("exited", 0), 0);
  assert.equal(endCode("quit", 143), 143);
});

test("escalate() warns a listening instance and terminates one without a listener", () => {
  assert.deepEqual(escalate(15, true, 1000), { action: "warn" });
  assert.deepEqual(escalate(15, false, 1000), { action: "terminate", code: 143 });
  assert.deepEqual(escalate(10, false, 1000), { action: "terminate", code: 138 });
});

test("escalate() terminates at once with SIGKILL as the warning or no interval to wait", () => {
  assert.deepEqual(escalate(9, true, 1000), { action: "terminate", code: 137 });
  assert.deepEqual(escalate(15, true, 0), { action: "terminate", code: 143 });
});
