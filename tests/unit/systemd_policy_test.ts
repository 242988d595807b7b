// What sam tells systemd, as pure functions of the supervisor's events, without systemd.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  INITIAL_NOTIFY_STATE,
  notifyEnd,
  notifyForEvent,
  notifyStopping,
  watchdogInterval,
} from "../../systemd/notify_policy.ts";
import { pickChannel } from "../../systemd/notifier.ts";
import type { SupervisorStatus } from "../../events.ts";

function status(instanceId: number, state: SupervisorStatus["state"]): SupervisorStatus {
  return {
    instanceId,
    state,
    recovery: "restart",
    pollPeriod: 500,
    lastUpdated: 0,
    poll_period: 500,
    last_updated: 0,
    restarts: 0,
    stuckThreads: 0,
  };
}

test("notifyForEvent() says READY=1 at the first running status only, STATUS= at each change", () => {
  let step = notifyForEvent(INITIAL_NOTIFY_STATE, "status", { status: status(1, "stopped") }, 0);
  assert.equal(step.message, "STATUS=instance 1 stopped");
  step = notifyForEvent(step.state, "status", { status: status(1, "running") }, 0);
  assert.equal(step.message, "READY=1\nSTATUS=instance 1 running");
  step = notifyForEvent(step.state, "status", { status: status(2, "running") }, 0);
  assert.equal(step.message, "STATUS=instance 2 running");
  assert.equal(notifyForEvent(step.state, "exit", { id: 2, code: 1 }, 0).message, null);
});

test("notifyForEvent() brackets a reload with RELOADING=1 and MONOTONIC_USEC= then READY=1, either way it ends", () => {
  const ready = { ...INITIAL_NOTIFY_STATE, ready: true };
  const begun = notifyForEvent(ready, "reload", { id: 2, replaced: 1, outcome: "begun" }, 1234.6);
  assert.equal(
    begun.message,
    "RELOADING=1\nMONOTONIC_USEC=1235\nSTATUS=reloading: instance 2 starts beside instance 1",
  );
  // The serving instance's status changes stay quiet until the reload ends.
  assert.equal(
    notifyForEvent(begun.state, "status", { status: status(2, "running") }, 0).message,
    null,
  );
  const took = notifyForEvent(
    begun.state,
    "reload",
    { id: 2, replaced: 1, outcome: "took-over" },
    0,
  );
  assert.equal(took.message, "READY=1\nSTATUS=instance 2 running (reloaded)");
  assert.equal(took.state.reloading, false);
  const failed = notifyForEvent(begun.state, "reload", {
    id: 2,
    replaced: 1,
    outcome: "failed",
    reason: "ended",
    code: 1,
  }, 0);
  assert.equal(
    failed.message,
    "READY=1\nSTATUS=instance 1 running (reload failed: instance 2 ended)",
  );
});

test("notifyStopping() says STOPPING=1 once, and nothing follows it but the end", () => {
  const stopping = notifyStopping(INITIAL_NOTIFY_STATE, "SIGTERM");
  assert.equal(stopping.message, "STOPPING=1\nSTATUS=stopping (SIGTERM)");
  assert.equal(notifyStopping(stopping.state, "again").message, null);
  assert.equal(
    notifyForEvent(stopping.state, "status", { status: status(1, "stopped") }, 0).message,
    null,
  );
  assert.equal(
    notifyEnd(stopping.state, { code: 0, reason: "stopped" }).message,
    "STATUS=ended (stopped), code 0",
  );
  assert.equal(
    notifyEnd(INITIAL_NOTIFY_STATE, { code: 1, reason: "quit" }).message,
    "STOPPING=1\nSTATUS=ended (quit), code 1",
  );
});

test("watchdogInterval() is half of WATCHDOG_USEC in ms, only for this process's pid", () => {
  assert.equal(watchdogInterval({ WATCHDOG_USEC: "2000000" }, 42), 1000);
  assert.equal(watchdogInterval({ WATCHDOG_USEC: "2000000", WATCHDOG_PID: "42" }, 42), 1000);
  assert.equal(watchdogInterval({ WATCHDOG_USEC: "2000000", WATCHDOG_PID: "43" }, 42), null);
  assert.equal(watchdogInterval({}, 42), null);
  assert.equal(watchdogInterval({ WATCHDOG_USEC: "soon" }, 42), null);
});

test("pickChannel() refuses what is not a socket address, and says why for every channel", () => {
  const why = pickChannel("not-a-socket");
  if (typeof why === "string") assert.match(why, /libc: /);
  else assert.equal(why.kind, "systemd-notify");
});
