// The wait for an ended instance's sockets as pure functions (supervisor/socket_release.ts),
// without Workers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RELEASE_LIMIT_MS, releaseStep, socketsLeft } from "../../supervisor/socket_release.ts";

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
