// The standby: the next instance's Worker, spawned ahead, and by default running the program
// ahead up to its register(), so that a recovery only wakes it there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RecoveryPolicy, supervise } from "../mod.ts";
import { runApp } from "./harness/helpers.ts";

const STANDBY_APP = new URL("./testdata/standby_app.ts", import.meta.url);

test("register() recovers into a standby that ran the code before register() ahead, once per instance, its output after the last instance's", async () => {
  const r = await runApp("prerun_app.ts");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.lines, [
    "before register in the main thread",
    "before register in a Worker",
    "iid 1 ran before the crash false saw -1 restores 0",
    "iid 1 last line",
    // Instance 2's standby ran its code before instance 1 crashed; its line comes out at
    // its activation, after everything instance 1 printed.
    "before register in a Worker",
    "iid 2 ran before the crash true saw -1 restores 9",
    "iid 2 last line",
    "before register in a Worker",
    "iid 3 ran before the crash true saw -1 restores 10",
  ]);
});

test("supervise() does not use a standby whose replayed read the data outdated; the fresh Worker reads the new value", async () => {
  // Each instance stores anew after its standby read the size: each standby is outdated.
  const r = await runApp("prerun_supervised.ts", { SAM_PRERUN_READ: "1" });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.lines.filter((l) => !l.startsWith("before register")), [
    "iid 1 ran before the crash false saw 0 restores 0",
    "iid 1 last line",
    "standby 2 stale-read",
    "iid 2 ran before the crash false saw 9 restores 9",
    "iid 2 last line",
    "standby 3 stale-read",
    "iid 3 ran before the crash false saw 10 restores 10",
    "end exited 0",
  ]);
});

for (const mode of ["throw", "no-register"]) {
  test(`supervise() falls back to a fresh Worker when a standby's pre-run fails by ${mode}, and recovers all the same`, async () => {
    const r = await runApp("prerun_supervised.ts", { SAM_PRERUN_MODE: mode });
    assert.equal(r.code, 0, r.stderr);
    const reports = r.lines.filter((l) =>
      !l.startsWith("before register") && !l.endsWith("last line")
    );
    assert.deepEqual(reports, [
      "iid 1 ran before the crash false saw -1 restores 0",
      "standby 2 prerun-failed",
      // A fresh Worker runs the code before register() only after the crash; and this
      // program is not run ahead again.
      "iid 2 ran before the crash false saw -1 restores 9",
      "iid 3 ran before the crash false saw -1 restores 10",
      "end exited 0",
    ]);
  });
}

interface StandbyRecord {
  entries: { workerStarted: number; previousCrashed: number | null }[];
}

async function recoveries(standby: boolean): Promise<StandbyRecord["entries"]> {
  await using supervisor = supervise(STANDBY_APP, {
    timeInterval: 0,
    recoveryPolicy: RecoveryPolicy.RESTART,
    standby,
  });
  assert.deepEqual(await supervisor.done, { code: 0, reason: "exited" });
  const record = JSON.parse(new TextDecoder().decode(supervisor.data())) as StandbyRecord;
  assert.equal(record.entries.length, 3);
  return record.entries.slice(1);
}

test("supervise() recovers into the standby Worker spawned before the crash", async () => {
  for (const { workerStarted, previousCrashed } of await recoveries(true)) {
    assert.ok(
      workerStarted < previousCrashed!,
      `Worker started ${workerStarted - previousCrashed!} ms after the crash`,
    );
  }
});

test("supervise() with standby: false spawns each recovery's Worker after the crash", async () => {
  for (const { workerStarted, previousCrashed } of await recoveries(false)) {
    assert.ok(
      workerStarted > previousCrashed!,
      `Worker started ${previousCrashed! - workerStarted} ms before the crash`,
    );
  }
});
