// Reload and the wait for released sockets as pure functions, without Workers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decideOverlapEnd, incomingFailure, reloadGate } from "../supervisor/reload.ts";
import { RELEASE_LIMIT_MS, releaseStep, socketsLeft } from "../supervisor/socket_release.ts";

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

test("decideOverlapEnd() hands over to the reload's instance unless supervision is to end", () => {
  assert.deepEqual(decideOverlapEnd({ markedFailed: false, stopping: false }), {
    action: "take-over",
  });
  assert.deepEqual(decideOverlapEnd({ markedFailed: false, stopping: true }), {
    action: "finish",
    reason: "stopped",
  });
  assert.deepEqual(decideOverlapEnd({ markedFailed: true, stopping: true }), {
    action: "finish",
    reason: "failed",
  });
});

test("socketsLeft() keeps the sockets held at the end and not at the activation", () => {
  assert.deepEqual(socketsLeft(new Set([1, 2]), new Set([1, 2, 3, 4])), new Set([3, 4]));
  assert.deepEqual(socketsLeft(new Set([1, 2]), new Set([1])), new Set());
});

test("releaseStep() starts once the sockets are closed or none of them listens, waits for listening ones, and gives up at the limit", () => {
  const left = new Set([7, 8]);
  const base = { left, open: new Set([1, 7, 8]), listening: null, waitedMs: 0 };
  assert.deepEqual(releaseStep(base), { action: "read-listening" });
  assert.deepEqual(releaseStep({ ...base, open: new Set([1]) }), { action: "start" });
  const listening = new Set([1, 8]);
  assert.deepEqual(releaseStep({ ...base, listening }).action, "wait");
  assert.deepEqual(releaseStep({ ...base, listening: new Set([1]) }), { action: "start" });
  assert.deepEqual(releaseStep({ ...base, listening, open: new Set([1, 7]) }), {
    action: "start",
  });
  assert.deepEqual(releaseStep({ ...base, listening, waitedMs: RELEASE_LIMIT_MS }), {
    action: "give-up",
    open: 1,
  });
  assert.deepEqual(releaseStep({ ...base, listening, waitedMs: 60, limitMs: 50 }), {
    action: "give-up",
    open: 1,
  });
});
