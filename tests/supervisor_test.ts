import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { CsError, RecoveryPolicy, supervise, type Supervisor } from "../mod.ts";

const APP = new URL("./testdata/counter_app.ts", import.meta.url);

test("supervise() restarts crashed instances with their stored data and reports each step", async () => {
  await using supervisor = supervise(APP, {
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

function record(supervisor: EventTarget, types: string[]): string[] {
  const events: string[] = [];
  for (const type of types) {
    supervisor.addEventListener(type, (e) => {
      const d = (e as CustomEvent).detail;
      events.push(
        [type, d.id ?? d.reason, d.code ?? d.signal].filter((x) => x !== undefined).join(" "),
      );
    });
  }
  return events;
}

test("supervise() ends as restart-limit after maxRestarts restarts within restartWindow", async () => {
  await using supervisor = supervise(new URL("./testdata/crash_app.ts", import.meta.url), {
    timeInterval: 0,
    recoveryPolicy: RecoveryPolicy.RESTART,
    maxRestarts: 3,
    restartWindow: 60_000,
  });
  const events = record(supervisor, ["instance", "end"]);
  assert.deepEqual(await supervisor.done, { code: 1, reason: "restart-limit" });
  assert.deepEqual(events, [
    "instance 1",
    "instance 2",
    "instance 3",
    "instance 4",
    "end restart-limit 1",
  ]);
  assert.equal(supervisor.status.state, "failed");
});

test("supervise() ends a restart-limit with code 1 when the last instance ended with 0", async () => {
  await using supervisor = supervise(new URL("./testdata/exit_zero_app.ts", import.meta.url), {
    timeInterval: 0,
    recoveryPolicy: RecoveryPolicy.RESTART,
    maxRestarts: 0,
  });
  const events = record(supervisor, ["exit", "end"]);
  assert.deepEqual(await supervisor.done, { code: 1, reason: "restart-limit" });
  assert.deepEqual(events, ["exit 1 0", "end restart-limit 1"]);
});

/** Runs crash_app.ts to its restart limit; the ms from each exit to the next instance. */
async function restartGaps(
  options: { maxRestarts: number; restartDelay: number; restartDelayMax?: number },
): Promise<number[]> {
  await using supervisor = supervise(new URL("./testdata/crash_app.ts", import.meta.url), {
    timeInterval: 0,
    recoveryPolicy: RecoveryPolicy.RESTART,
    ...options,
  });
  const gaps: number[] = [];
  let exitedAt = 0;
  supervisor.addEventListener("exit", () => exitedAt = performance.now());
  supervisor.addEventListener("instance", () => {
    if (exitedAt) gaps.push(performance.now() - exitedAt);
  });
  assert.equal((await supervisor.done).reason, "restart-limit");
  assert.equal(gaps.length, options.maxRestarts);
  return gaps;
}

test("supervise() waits restartDelay before a restart and doubles it for the next", async () => {
  const gaps = await restartGaps({ maxRestarts: 3, restartDelay: 40 });
  gaps.forEach((gap, i) => assert.ok(gap >= 40 * 2 ** i - 1, `gap ${i} was ${gap} ms`));
});

test("supervise() caps the doubled restart delay at restartDelayMax", async () => {
  const gaps = await restartGaps({ maxRestarts: 4, restartDelay: 100, restartDelayMax: 120 });
  // Uncapped, the fourth delay would be 800 ms.
  assert.ok(gaps[3] >= 119 && gaps[3] < 600, `the fourth delay was ${gaps[3]} ms`);
});

test("supervise() forgets restarts older than restartWindow", async () => {
  // Instances 1 and 2 crash, 3 ends: two restarts, each 60 ms after a 30 ms window.
  await using supervisor = supervise(APP, {
    timeInterval: 500,
    recoveryPolicy: RecoveryPolicy.RESTART,
    data: new Uint8Array([0]),
    maxRestarts: 1,
    restartWindow: 30,
    restartDelay: 60,
  });
  assert.deepEqual(await supervisor.done, { code: 0, reason: "exited" });
  assert.equal(supervisor.status.restarts, 2);
});

test("Supervisor.stop() warns an instance that listens, which saves its state and exits", async () => {
  await using supervisor = supervise(new URL("./testdata/listener_app.ts", import.meta.url), {
    timeInterval: 1000,
    recoveryPolicy: RecoveryPolicy.RESTART,
  });
  const events = record(supervisor, ["instance", "warning", "exit", "end"]);
  // The app listens before it starts health checking: once running, the listener is there.
  const running = new Promise((resolve) => {
    supervisor.addEventListener("status", (e) => {
      if (e.detail.status.state === "running") resolve(undefined);
    });
  });
  await running;
  assert.deepEqual(await supervisor.stop(), { code: 0, reason: "stopped" });
  assert.deepEqual(events, ["instance 1", "warning 1 SIGTERM", "exit 1 0", "end stopped 0"]);
  assert.equal(new TextDecoder().decode(supervisor.data()), "saved by 1");
});

test("supervise() under quit ends with the crashed instance's code, in event order", async () => {
  await using supervisor = supervise(new URL("./testdata/crash_app.ts", import.meta.url), {
    timeInterval: 0,
    recoveryPolicy: RecoveryPolicy.QUIT,
  });
  const events = record(supervisor, ["instance", "registered", "exit", "restart", "end"]);
  assert.deepEqual(await supervisor.done, { code: 1, reason: "quit" });
  assert.deepEqual(events, ["instance 1", "registered 1", "exit 1 1", "end quit 1"]);
});

test("Supervisor.data() gives one whole stored value while an instance stores without pause", async () => {
  await using supervisor = supervise(new URL("./testdata/storing_app.ts", import.meta.url), {
    timeInterval: 0,
    recoveryPolicy: RecoveryPolicy.QUIT,
  });
  await new Promise((resolve) => supervisor.addEventListener("registered", resolve));
  const seen = new Set<number>();
  for (let i = 0; i < 5000 && seen.size < 5; i++) {
    await new Promise((r) => setImmediate(r));
    const data = supervisor.data();
    if (data.length === 0) continue;
    assert.equal(data.length, 1024 * 1024);
    assert.ok(data.every((b) => b === data[0]), `a mixed value at read ${i}`);
    seen.add(data[0]);
  }
  assert.equal(seen.size, 5, "the instance kept storing new values");
});

const WARNING_APP = new URL("./testdata/warning_app.ts", import.meta.url);

/** Supervises warning_app.ts in `mode` and resolves once its health checking runs. */
async function runningWarningApp(
  mode: number,
  options: { timeInterval: number; warnSignal?: string },
): Promise<{ supervisor: Supervisor; events: string[] }> {
  const supervisor = supervise(WARNING_APP, {
    ...options,
    recoveryPolicy: RecoveryPolicy.QUIT,
    data: new Uint8Array([mode]),
  });
  const events = record(supervisor, [
    "instance",
    "late",
    "warning",
    "terminated",
    "exit",
    "end",
  ]);
  await new Promise((resolve) => {
    supervisor.addEventListener("status", (e) => {
      if (e.detail.status.state === "running") resolve(undefined);
    });
  });
  return { supervisor, events };
}

test("supervise() reports late, warning and terminated for an instance that misses its deadline and ignores the warning", async () => {
  const { supervisor, events } = await runningWarningApp(0, { timeInterval: 100 });
  await using _ = supervisor;
  assert.deepEqual(await supervisor.done, { code: 137, reason: "quit" });
  assert.deepEqual(events, [
    "instance 1",
    "late 1",
    "warning 1 SIGTERM",
    "terminated 1 137",
    "exit 1 137",
    "end quit 137",
  ]);
});

test("Supervisor.stop() terminates an instance without a warning listener at once, with 143", async () => {
  const { supervisor, events } = await runningWarningApp(1, { timeInterval: 5000 });
  try {
    assert.deepEqual(await supervisor.stop(), { code: 143, reason: "stopped" });
    assert.deepEqual(events, ["instance 1", "terminated 1 143", "exit 1 143", "end stopped 143"]);
  } finally {
    await supervisor.stop();
  }
});

test("removeSignalListener() leaves the instance without a listener: stop() warns it no more", async () => {
  const { supervisor, events } = await runningWarningApp(2, { timeInterval: 5000 });
  try {
    assert.deepEqual(await supervisor.stop(), { code: 143, reason: "stopped" });
    assert.deepEqual(events, ["instance 1", "terminated 1 143", "exit 1 143", "end stopped 143"]);
    assert.deepEqual(supervisor.data(), new Uint8Array([2]));
  } finally {
    await supervisor.stop();
  }
});

test("supervise() warns with its warnSignal option", async () => {
  const { supervisor, events } = await runningWarningApp(3, {
    timeInterval: 5000,
    warnSignal: "SIGUSR1",
  });
  try {
    assert.deepEqual(await supervisor.stop(), { code: 0, reason: "stopped" });
    assert.deepEqual(events, ["instance 1", "warning 1 SIGUSR1", "exit 1 0", "end stopped 0"]);
    assert.deepEqual(supervisor.data(), new Uint8Array([99]));
  } finally {
    await supervisor.stop();
  }
});

test("Supervisor.stop() in a restart delay ends at once with the last code, and no instance starts", async () => {
  await using supervisor = supervise(new URL("./testdata/crash_app.ts", import.meta.url), {
    timeInterval: 0,
    recoveryPolicy: RecoveryPolicy.RESTART,
    restartDelay: 300,
  });
  const events = record(supervisor, ["instance", "exit", "end"]);
  await new Promise((resolve) => supervisor.addEventListener("exit", resolve, { once: true }));
  assert.deepEqual(await supervisor.stop(), { code: 1, reason: "stopped" });
  // A window past the delay: the restart that stop() called off would have started in it.
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual(events, ["instance 1", "exit 1 1", "end stopped 1"]);
  assert.equal(supervisor.status.instanceId, 1);
});

/** Runs crash_app.ts up to its restart limit with a state file; returns what the file held. */
async function stateFileAfterRestartLimit(policy: number): Promise<string | null> {
  const dir = mkdtempSync(join(tmpdir(), "sam-state-"));
  const stateFile = join(dir, "state.json");
  const supervisor = supervise(new URL("./testdata/crash_app.ts", import.meta.url), {
    timeInterval: 0,
    recoveryPolicy: policy,
    maxRestarts: 1,
    stateFile,
  });
  try {
    assert.equal((await supervisor.done).reason, "restart-limit");
    return existsSync(stateFile) ? readFileSync(stateFile, "utf8") : null;
  } finally {
    await supervisor.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

test("supervise() leaves its CMAP state record as failed at the restart limit", async () => {
  const record = JSON.parse(
    (await stateFileAfterRestartLimit(
      RecoveryPolicy.RESTART | RecoveryPolicy.CMAP,
    ))!,
  );
  const prefix = `resources.process.${process.pid}.`;
  assert.equal(record.state, "failed");
  assert.equal(record.cmap[`${prefix}state`], "failed");
  assert.equal(record.cmap[`${prefix}recovery`], "restart");
  assert.equal(record.cmap[`${prefix}poll_period`], 0);
  assert.equal(typeof record.cmap[`${prefix}last_updated`], "number");
});

test("supervise() writes no state file without the CMAP flag, even with stateFile set", async () => {
  assert.equal(await stateFileAfterRestartLimit(RecoveryPolicy.RESTART), null);
});
