// Hostile instances run by supervise(): they write what they like over the shared memory they
// can reach (reached through the instance context, as any application could). The supervisor
// must not crash, read out of bounds or hang, and must recover by its policy.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RecoveryPolicy, supervise, type Supervisor, type SupervisorEnd } from "../mod.ts";
import { DATA_HEADER_SLOTS, INST_SLOTS } from "../shared_memory/layout.ts";
import { pattern } from "./testdata/rel_pattern.ts";
import { hostilePlan } from "./testdata/rel_hostile_plan.ts";
import { sameBytes } from "./testdata/rel_writers.ts";
import { within } from "./harness/helpers.ts";

const MiB = 1024 * 1024;

function events(supervisor: Supervisor, type: string): Record<string, unknown>[] {
  const seen: Record<string, unknown>[] = [];
  supervisor.addEventListener(type, (e) => seen.push((e as CustomEvent).detail));
  return seen;
}

test(
  "supervise() survives an instance that writes random values over the shared header, data slots and its block, for 60 seeds",
  { timeout: 180_000 },
  async () => {
    const tally: Record<string, number> = {};
    for (let seed = 1; seed <= 60; seed++) {
      const plan = hostilePlan(seed, DATA_HEADER_SLOTS, INST_SLOTS);
      const what = `seed ${seed} (${plan.damage}, ends by ${plan.end})`;
      await using supervisor = supervise(
        new URL(`./testdata/rel_hostile.ts?seed=${seed}`, import.meta.url),
        { timeInterval: 0, recoveryPolicy: RecoveryPolicy.RESTART, maxDataSize: MiB },
      );
      const corrupt = events(supervisor, "corrupt");
      const instances = events(supervisor, "instance");
      const end: SupervisorEnd = await within(supervisor.done, 20_000, `${what}: supervision`);
      // Reading what is stored, and the status, must work whatever was written.
      const data = supervisor.data();
      assert.ok(data.length <= MiB, `${what}: ${data.length} bytes stored`);
      assert.equal(supervisor.status.instanceId, instances.length);
      if (plan.damage === "header") {
        assert.deepEqual(corrupt, [{ id: 1 }], `${what}: the overwritten header went unnoticed`);
      }
      if (plan.damage === "slots") {
        assert.deepEqual(corrupt, [], `${what}: an intact header was reported corrupt`);
      }
      if (corrupt.length > 0) {
        assert.equal(instances.length, 2, `${what}: no restart after the corrupt header`);
      }
      const outcome = `${plan.damage}: ${corrupt.length ? "corrupt, " : ""}${
        instances.length === 2 ? "restarted" : "exited"
      }`;
      tally[outcome] = (tally[outcome] ?? 0) + 1;
      if (instances.length === 1) {
        // Not found corrupt and its health checking looked stopped: supervision ends with its
        // exit code, and what is stored is what it left.
        assert.equal(end.reason, "exited", what);
        if (plan.damage === "slots") assert.equal(data.length, plan.goodLength, what);
        continue;
      }
      assert.equal(instances.length, 2, what);
      assert.deepEqual(end, { code: 0, reason: "exited" }, what);
      assert.equal(
        String.fromCharCode(data[0], data[1]),
        "OK",
        `${what}: the next instance's dataRestore() threw ${data[2]}`,
      );
      const restored = data.subarray(2);
      if (corrupt.length > 0) {
        assert.ok(
          restored.length === 0 || sameBytes(restored, pattern(seed, plan.goodLength)),
          `${what}: the next instance restored ${restored.length} bytes after a corrupt header`,
        );
      } else if (plan.damage === "slots") {
        assert.equal(restored.length, plan.goodLength, what);
      }
    }
    console.log("hostile instances:", JSON.stringify(tally));
  },
);

test(
  "supervise() restarts an instance that forged the supervisor's own id into the lock word, and the next one restores",
  { timeout: 30_000 },
  async () => {
    await using supervisor = supervise(
      new URL("./testdata/rel_hostile_trick.ts?trick=lock", import.meta.url),
      { timeInterval: 0, recoveryPolicy: RecoveryPolicy.RESTART },
    );
    const instances = events(supervisor, "instance");
    const end = await within(supervisor.done, 10_000, "supervision");
    assert.equal(instances.length, 2);
    assert.deepEqual(end, { code: 0, reason: "exited" });
    const data = supervisor.data();
    assert.equal(String.fromCharCode(data[0], data[1]), "OK");
    // The forged lock word can only mean a corrupt header (then empty) or be ignored.
    const restored = [...data.subarray(2)];
    assert.ok(
      restored.length === 0 || restored.join() === "1,2,3",
      `restored ${restored}`,
    );
  },
);

test(
  "supervise() reports no stuck thread when an instance claims another thread's id as its own",
  { timeout: 30_000 },
  async () => {
    await using supervisor = supervise(
      new URL("./testdata/rel_hostile_trick.ts?trick=thread-id", import.meta.url),
      { timeInterval: 100, recoveryPolicy: RecoveryPolicy.RESTART },
    );
    const stopped = events(supervisor, "thread-stopped");
    const stuck = events(supervisor, "stuck-thread");
    const watched = new Promise<void>((resolve) => {
      const done = () => resolve();
      supervisor.addEventListener("thread-stopped", done);
      supervisor.addEventListener("stuck-thread", done);
    });
    await within(supervisor.done, 10_000, "supervision");
    // The supervisor looks for the terminated instance's thread until it is gone, or for
    // 500 ms before it calls it stuck.
    await within(watched, 5_000, "the thread watch");
    assert.deepEqual(stuck, [], "a stuck thread was reported");
    assert.equal(stopped.length, 1);
    // The thread it claimed, which the next instance restored and stored after "OK".
    const data = supervisor.data();
    assert.equal(String.fromCharCode(data[0], data[1]), "OK");
    const claimed = new DataView(data.buffer, data.byteOffset + 2, 4).getUint32(0, true);
    assert.ok(claimed > 0, "the instance found no other thread to claim");
    assert.notEqual(stopped[0].threadId, claimed, "it watched the thread the instance claimed");
    assert.equal(supervisor.status.stuckThreads, 0);
  },
);
