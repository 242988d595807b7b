// sam in a real corosync: the CMAP record in corosync's cmap against libsam's own (the same
// keys at every step, the same changes in the same order), corosync's watchdog on a sam
// process, QUORUM from corosync's quorum service, corosync restarted under a running
// program, and a three-node cluster with one node cut off. Every corosync is the test's own
// (tests/harness/corosync.ts), in namespaces that are deleted at the end.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readClockMonotonic } from "../platform/clock.ts";
import { command } from "./harness/helpers.ts";
import {
  buildLibsamSteps,
  type Cluster,
  corosyncUnavailable,
  libsamUnavailable,
  type Node,
  normalizeRecord,
  type NsProcess,
  startCluster,
  startCorosync,
} from "./harness/corosync.ts";

const skip = corosyncUnavailable() ?? false;
const skipLibsam = libsamUnavailable() ?? false;
if (skip) console.log(`cluster_test: skipped: ${skip}`);
else if (skipLibsam) console.log(`cluster_test: libsam comparison skipped: ${skipLibsam}`);
const TIMEOUT = { timeout: 90_000 };

/** Follows every change under resources.process. (corosync-cmapctl -T) until stopped. */
async function track(node: Node): Promise<{ stop(): Promise<string[]> }> {
  const tracker = node.run(["stdbuf", "-oL", "corosync-cmapctl", "-T", "resources.process."]);
  // Printed once the tracking is in place.
  await tracker.waitForLine("Type ");
  return {
    async stop() {
      tracker.send("q");
      await tracker.exited;
      // Repeated last_updated writes say nothing about the order: one stands for a run.
      const changes = tracker.lines.slice(1).map((line) =>
        line.replace(/resources\.process\.\d+\./, "resources.process.PID.")
          .replace(/(last_updated \(u64\) = )\d+$/, "$1T")
      );
      return changes.filter((line, i) => line !== changes[i - 1]);
    },
  };
}

/** libsam_steps.c with `policy` doing `steps`, its record dumped after each one. */
async function libsamRun(cluster: Cluster, binary: string, policy: string, steps: string[]) {
  const tracker = await track(cluster);
  const app = cluster.run([binary, policy, "10000", ...steps]);
  const pid = (await app.waitForLine("initialize ")).split(" ")[2];
  const dumps: string[][] = [];
  for (const step of steps) {
    // Each step prints one line once done, but markfailed: the process ends.
    const done = step === "markfailed" ? app.exited : app.nextLine();
    app.send("next");
    assert.match(String(await done), step === "markfailed" ? /^0$/ : new RegExp(`^${step} 1 `));
    // RESTART: the next child returns from sam_register and says so.
    if (step === "exit" && policy === "restart") {
      await app.waitForLine((l) => / instance 2$/.test(l));
    }
    dumps.push(dump(cluster, pid));
  }
  if (steps.at(-1) === "exit" || steps.at(-1) === "markfailed") await app.exited;
  dumps[dumps.length - 1] = dump(cluster, pid);
  app.child.kill("SIGKILL");
  await app.exited;
  return { dumps, changes: await tracker.stop() };
}

/** cluster_steps.ts doing `steps` in instance 1 (and `steps2` in instance 2). */
async function samRun(cluster: Cluster, policy: string, steps: string[], steps2: string[] = []) {
  const tracker = await track(cluster);
  const app = cluster.run(command("cluster_steps.ts"), {
    SAM_POLICY: policy,
    SAM_STEPS_1: steps.join(" "),
    SAM_STEPS_2: steps2.join(" "),
  });
  const pid = String(app.child.pid);
  const ends = steps2.length > 0 ? steps2 : steps;
  if (ends.at(-1) === "wait") await app.waitForLine("waiting");
  else await app.exited;
  const dumps = app.lines.filter((l) => l.startsWith("dump "))
    .map((l) => normalizeRecord(JSON.parse(l.slice(l.indexOf(" ", 5) + 1))));
  dumps.push(dump(cluster, pid));
  app.child.kill("SIGKILL");
  await app.exited;
  return { dumps, changes: await tracker.stop(), lines: app.lines };
}

function dump(node: Node, pid: string): string[] {
  try {
    return normalizeRecord(node.cmapctl(["-b", `resources.process.${pid}.`]));
  } catch {
    return []; // no key under the prefix
  }
}

const P = "resources.process.PID.";

test("CMAP in corosync: sam's record is libsam's at every step, written in the same order", {
  skip: skip || skipLibsam,
  timeout: 180_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "sam-libsam-"));
  try {
    const binary = buildLibsamSteps(dir);
    await using cluster = await startCorosync();
    const cases: [string, string[], string[]][] = [
      ["quit", ["start", "hc", "stop", "exit"], []],
      ["quit", ["start", "finalize", "exit"], []],
      ["quit", ["start", "hc", "exit"], []], // ends while started: left failed
      ["restart", ["start", "markfailed"], []],
    ];
    for (const [policy, steps] of cases) {
      const libsam = await libsamRun(cluster, binary, policy, ["register", ...steps]);
      const sam = await samRun(cluster, policy, steps);
      const what = `${policy} ${steps.join(" ")}`;
      // sam dumps after register() and after each step it survives, then once it ended.
      const survived = steps.filter((s) => s !== "exit" && s !== "markfailed").length;
      assert.deepEqual(sam.dumps.slice(0, 1 + survived), libsam.dumps.slice(0, 1 + survived), what);
      assert.deepEqual(sam.dumps.at(-1), libsam.dumps.at(-1), `${what}: at the end`);
      assert.deepEqual(sam.changes, libsam.changes, `${what}: the changes, in order`);
    }
    const failed = [
      `${P}last_updated (u64) = T`,
      `${P}poll_period (u64) = 10000`,
      `${P}recovery (str) = restart`, // never rewritten, not even after markFailed
      `${P}state (str) = failed`,
    ];
    assert.deepEqual(
      (await samRun(cluster, "restart", ["start", "markfailed"])).dumps.at(-1),
      failed,
    );
    // RESTART: the next instance's stopped, then its start, as libsam's next child.
    const libsam = await libsamRun(cluster, binary, "restart", [
      "register",
      "start",
      "exit",
      "start",
    ]);
    const sam = await samRun(cluster, "restart", ["start", "exit"], ["start", "wait"]);
    assert.deepEqual(sam.dumps.at(-1), libsam.dumps.at(-1));
    // Up to the next child's start: libsam's supervisor is then SIGKILLed, and what its
    // orphaned child does afterwards is not part of the comparison.
    assert.deepEqual(sam.changes, libsam.changes.slice(0, sam.changes.length));
    assert.deepEqual(sam.changes.slice(-3), [
      `modify> ${P}state (str) = stopped`,
      `modify> ${P}last_updated (u64) = T`,
      `modify> ${P}state (str) = running`,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs cluster_supervisor.ts on `node`. */
function supervisor(node: Node, env: Record<string, string> = {}): NsProcess {
  return node.run(command("cluster_supervisor.ts"), env, 120_000);
}

test(
  "last_updated is CLOCK_MONOTONIC, and corosync's watchdog fails a sam process whose supervisor is SIGKILLed",
  {
    skip,
    ...TIMEOUT,
  },
  async () => {
    await using cluster = await startCorosync();
    const app = supervisor(cluster);
    const pid = (await app.waitForLine("pid ")).split(" ")[1];
    await app.waitForLine("started 1");
    const before = readClockMonotonic();
    // Written with the health checks (at most about every 100 ms): one after this moment.
    let stamp = 0n;
    while (stamp <= before) {
      stamp = BigInt(
        cluster.cmapctl(["-g", `resources.process.${pid}.last_updated`]).split(" = ")[1],
      );
    }
    const after = readClockMonotonic();
    assert.ok(stamp <= after && after - stamp < 2_000_000_000n, `${before} < ${stamp} <= ${after}`);
    assert.equal(dump(cluster, pid).at(-1), `${P}state (str) = running`);
    assert.ok(!/resource "\d+" failed/.test(cluster.log()), "not failed while it runs");
    app.child.kill("SIGKILL");
    const line = await waitForLog(cluster, new RegExp(`resource "${pid}" failed`), 20_000);
    assert.match(line, /restart resource/);
  },
);

/** Resolves with corosync's first log line that matches, waiting as it writes its log. */
async function waitForLog(node: Node, re: RegExp, timeoutMs: number): Promise<string> {
  await waitFor(() => re.test(node.log()), `${re} in corosync's log`, timeoutMs);
  return node.log().split("\n").find((l) => re.test(l))!;
}

/**
 * Resolves once `ok()` holds. For output the harness only keeps as text (corosync's log, a
 * program's stderr): 50 ms is how often it is looked at, not a wait for something to happen.
 */
async function waitFor(ok: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test(
  "QUORUM from corosync: start() waits, loss warns then ends the instance, the next waits again",
  {
    skip,
    ...TIMEOUT,
  },
  async () => {
    await using cluster = await startCorosync();
    cluster.cmapctl(["-s", "quorum.expected_votes", "u32", "2"]);
    const app = supervisor(cluster, { SAM_QUORUM: "1" });
    const pid = (await app.waitForLine("pid ")).split(" ")[1];
    await app.waitForLine("status 1 waiting for quorum");
    assert.equal(dump(cluster, pid).at(-1), `${P}state (str) = waiting for quorum`);
    app.send("votes 1");
    await app.waitForLine("started 1");
    await app.waitForLine("status 1 running");
    assert.equal(dump(cluster, pid).at(-1), `${P}state (str) = running`);
    app.send("votes 2");
    const warning = await app.waitForLine("warning 1 ");
    assert.ok(Number(warning.split(" ")[2]) < 200, warning);
    await app.waitForLine("warned 1");
    // It goes on sending health checks: ended all the same, timeInterval ms after its warning.
    assert.equal(await app.waitForLine("exit 1 "), "exit 1 137");
    await app.waitForLine("status 2 waiting for quorum");
    assert.equal(dump(cluster, pid).at(-1), `${P}state (str) = waiting for quorum`);
    app.send("votes 1");
    await app.waitForLine("started 2");
    app.send("stop");
    assert.equal(await app.waitForLine("end "), "end stopped");
    assert.equal(await app.exited, 0, app.stderr());
    assert.deepEqual(dump(cluster, pid), [], "removed when supervision ends stopped");
  },
);

test(
  "corosync stopped and started again under a running program: the record is written again whole",
  {
    skip,
    ...TIMEOUT,
  },
  async () => {
    await using cluster = await startCorosync();
    const app = supervisor(cluster);
    const pid = (await app.waitForLine("pid ")).split(" ")[1];
    await app.waitForLine("status 1 running");
    const whole = [
      `${P}last_updated (u64) = T`,
      `${P}poll_period (u64) = 1000`,
      `${P}recovery (str) = restart`,
      `${P}state (str) = running`,
    ];
    assert.deepEqual(dump(cluster, pid), whole);
    await cluster.stop();
    await waitFor(() => /corosync's cmap went away/.test(app.stderr()), "went away", 10_000);
    await cluster.restart();
    // Said just before the record is written again whole, at the first write that finds
    // corosync back (reconnects are half a second apart).
    await waitFor(() => /corosync's cmap is back/.test(app.stderr()), "is back", 10_000);
    assert.deepEqual(dump(cluster, pid), whole);
    assert.deepEqual(app.lines.filter((l) => l.startsWith("exit ")), [], "the instance ran on");
    app.send("stop");
    assert.equal(await app.exited, 0, app.stderr());
  },
);

test(
  "three nodes, one cut off: its program is recovered and waits for quorum, the two others run on; healed, it starts again",
  {
    skip,
    timeout: 120_000,
  },
  async () => {
    await using cluster = await startCluster();
    const apps = cluster.nodes.map((node) => supervisor(node, { SAM_QUORUM: "1" }));
    for (const app of apps) await app.waitForLine("started 1", 30_000);
    cluster.cut(0);
    await apps[0].waitForLine("quorum false", 30_000);
    await apps[0].waitForLine("warning 1 ");
    assert.equal(await apps[0].waitForLine("exit 1 "), "exit 1 137");
    await apps[0].waitForLine("status 2 waiting for quorum");
    cluster.heal(0);
    await apps[0].waitForLine("started 2", 30_000);
    for (const app of apps.slice(1)) {
      assert.deepEqual(app.lines.filter((l) => /^(warning|exit|quorum|started [^1])/.test(l)), []);
    }
    for (const app of apps) app.send("stop");
    for (const app of apps) assert.equal(await app.exited, 0, app.stderr());
  },
);
