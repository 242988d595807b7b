import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type QuorumSource, RecoveryPolicy, supervise, type SupervisorStatus } from "../mod.ts";
import { runApp } from "./harness/helpers.ts";

test("hcCallbackRegister() stops the checks at the first unhealthy answer, and the next instance restores 11", async () => {
  const r = await runApp("hc_callback.ts");
  assert.deepEqual(r.lines.slice(0, 3), ["iid 1", "iid 2", "restored 11"]);
  assert.equal(r.code, 0);
});

test("finalize() with a health-check callback started stops the checks without a deadlock", async () => {
  const r = await runApp("finalize_callback.ts");
  assert.deepEqual(r.lines, ["iid 1", "finalized after some callbacks"]);
  assert.equal(r.code, 0);
});

function tempFile(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), "sam-test-"));
  return { dir, file: join(dir, "state.json") };
}

test("markFailed() terminates the instance, quits, and leaves the state record as failed", async () => {
  const { dir, file } = tempFile();
  try {
    const r = await runApp("cmap.ts", { SAM_STATE_FILE: file, SAM_CMAP_MODE: "failed" });
    assert.deepEqual(r.lines, [
      "iid 1 state=running recovery=restart poll_period=2000 cmap_state=running pid_ok=true",
    ]);
    assert.equal(r.code, 137);
    const record = JSON.parse(readFileSync(file, "utf8"));
    assert.equal(record.state, "failed");
    assert.equal(record.recovery, "quit");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the CMAP state record is right as soon as register(), start() and stop() return, as in libsam's test8", async () => {
  const { dir, file } = tempFile();
  try {
    const r = await runApp("cmap.ts", { SAM_STATE_FILE: file, SAM_CMAP_MODE: "quit" });
    assert.deepEqual(r.lines, [
      "after register: state=stopped recovery=quit poll_period=2000 cmap_state=stopped pid_ok=true",
      "after start: running",
      "after stop: stopped",
      "after start 2: running",
      "last_updated moved within 500..2000 ms",
      "after stop 2: stopped",
    ]);
    assert.equal(r.code, 0);
    assert.equal(existsSync(file), false, "the record is removed when supervision ends stopped");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the CMAP state record follows restarts and is removed when supervision ends stopped", async () => {
  const { dir, file } = tempFile();
  try {
    const r = await runApp("cmap.ts", { SAM_STATE_FILE: file, SAM_CMAP_MODE: "restart" });
    const line = "state=running recovery=restart poll_period=2000 cmap_state=running pid_ok=true";
    assert.deepEqual(r.lines, [`iid 1 ${line}`, `iid 2 ${line}`]);
    assert.equal(r.code, 0);
    assert.equal(existsSync(file), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

class TestQuorum extends EventTarget implements QuorumSource {
  quorate = false;
  set(quorate: boolean): void {
    this.quorate = quorate;
    this.dispatchEvent(new Event("change"));
  }
}

function nextStatus(
  target: EventTarget,
  want: (s: SupervisorStatus) => boolean,
): Promise<SupervisorStatus> {
  return new Promise((resolve) => {
    const on = (e: Event) => {
      const status = (e as CustomEvent).detail.status as SupervisorStatus;
      if (!want(status)) return;
      target.removeEventListener("status", on);
      resolve(status);
    };
    target.addEventListener("status", on);
  });
}

test("start() waits for quorum, and losing quorum while started ends an instance without a listener at its warning", async () => {
  const quorum = new TestQuorum();
  await using supervisor = supervise(new URL("./testdata/quorum_app.ts", import.meta.url), {
    timeInterval: 5000,
    recoveryPolicy: RecoveryPolicy.QUORUM_RESTART,
    quorum,
  });
  const exits: number[] = [];
  supervisor.addEventListener("exit", (e) => exits.push(e.detail.code));
  const quorate: boolean[] = [];
  supervisor.addEventListener("quorum", (e) => quorate.push(e.detail.quorate));
  const waiting = await nextStatus(supervisor, (s) => s.state === "waiting for quorum");
  assert.equal(waiting.instanceId, 1);
  assert.equal(waiting.recovery, "restart");
  assert.equal(waiting.poll_period, 5000);
  assert.equal(waiting.pollPeriod, 5000);
  const running = nextStatus(supervisor, (s) => s.state === "running");
  quorum.set(true);
  assert.equal((await running).instanceId, 1);
  const waitingAgain = nextStatus(
    supervisor,
    (s) => s.instanceId === 2 && s.state === "waiting for quorum",
  );
  quorum.set(false);
  await waitingAgain;
  // No listener for the warning: terminated at it, as a process dies of SIGTERM.
  assert.deepEqual(exits, [143]);
  assert.deepEqual(quorate, [true, false], "the quorum events");
});
