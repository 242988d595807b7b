import { test } from "node:test";
import assert from "node:assert/strict";
import { CsError, RecoveryPolicy, supervise } from "../mod.ts";

const APP = new URL("./testdata/counter_app.ts", import.meta.url);

test("supervise() restarts crashed instances with their stored data and reports each step", async () => {
  const supervisor = supervise(APP, {
    timeInterval: 500,
    recoveryPolicy: RecoveryPolicy.RESTART,
    data: new Uint8Array([0]),
  });
  const events: string[] = [];
  for (const type of ["instance", "restart", "exit", "end"]) {
    supervisor.addEventListener(type, (e) => {
      const d = (e as CustomEvent).detail;
      events.push(`${type} ${d.id ?? d.reason}${d.code !== undefined ? ` ${d.code}` : ""}`);
    });
  }
  try {
    const end = await supervisor.done;
    assert.deepEqual(end, { code: 0, reason: "exited" });
    assert.deepEqual(events, [
      "instance 1",
      "exit 1 1",
      "instance 2",
      "restart 2",
      "exit 2 1",
      "instance 3",
      "restart 3",
      "exit 3 0",
      "end exited 0",
    ]);
    assert.deepEqual(
      supervisor.data(),
      new Uint8Array([3]),
      "the replayed store of 99 changed nothing",
    );
    assert.equal(supervisor.status.instanceId, 3);
    assert.equal(supervisor.status.restarts, 2);
    assert.equal(supervisor.status.state, "stopped");
  } finally {
    await supervisor.stop();
  }
});

test("supervise() rejects a bad time interval or policy with CS_ERR_INVALID_PARAM", () => {
  for (const timeInterval of [-1, NaN, Infinity, 2 ** 31]) {
    assert.throws(() => supervise(APP, { timeInterval, recoveryPolicy: RecoveryPolicy.QUIT }), {
      code: CsError.CS_ERR_INVALID_PARAM,
    });
  }
  for (const recoveryPolicy of [0, 3, 0x40, 1.5]) {
    assert.throws(() => supervise(APP, { timeInterval: 0, recoveryPolicy }), {
      code: CsError.CS_ERR_INVALID_PARAM,
    });
  }
});
