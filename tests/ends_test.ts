import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { command, fixtureEnv, runApp } from "./_helpers.ts";
import { runtime } from "../_runtime.ts";

// How an instance ends (health checking started, policy quit) -> the process's exit code.
const ENDS: [mode: string, codes: number[]][] = [
  ["return", [0]],
  ["process.exit", [3]],
  ["process.exit(300)", [44]],
  ["self.close", [0]],
  ["throw", [1]],
  ["reject", [1]],
  ["busy", [143]],
  // Deno keeps a Worker whose top-level await never settles alive, so it is found by the
  // missed deadline (143); Bun ends it with nothing left to do, an error (1).
  ["await", [1, 143]],
  ["wait", [143]],
];

for (const [mode, codes] of ENDS) {
  test(`register() ends supervision under quit with the exit code of an instance that ends by ${mode}`, async () => {
    const r = await runApp("ends.ts", { SAM_END_MODE: mode });
    assert.equal(r.lines[0], "iid 1");
    assert.ok(codes.includes(r.code!), `exit code ${r.code}, want ${codes}: ${r.stderr}`);
  });
}

test("an instance terminated in a busy loop has all it wrote before it out, on stdout and stderr", async () => {
  const r = await runApp("ends.ts", { SAM_END_MODE: "busy-after-output" });
  assert.equal(r.code, 143, r.stderr);
  assert.deepEqual(r.lines, ["iid 1", "line 2", "line 4", "line 6 { seven: 7 }"]);
  assert.equal(r.stderr, "line 3\nline 5\n");
});

test("an instance whose stdout reader went away goes on printing and ends normally", () => {
  // `| head -1` closes the pipe after one line; the group reports the program's exit code.
  const r = spawnSync("sh", [
    "-c",
    '{ "$@"; echo "exit $?" >&2; } | head -1',
    "sh",
    ...command("closed_stdout.ts"),
  ], {
    encoding: "utf8",
    env: fixtureEnv(),
    timeout: 60_000,
  });
  assert.equal(r.stdout, `line 0 of instance 1 ${"x".repeat(100)}\n`);
  assert.equal(r.stderr, "instance 1 is still there\nexit 0\n");
});

test("register() ends supervision with the exit code of an instance that ends while stopped", async () => {
  const r = await runApp("ends.ts", { SAM_END_MODE: "stopped-exit" });
  assert.deepEqual(r.lines, ["iid 1"]);
  assert.equal(r.code, 5);
});

test("register() leaves no spinning thread behind after a busy loop, and the data carries over", async () => {
  const r = await runApp("stuck.ts");
  const starts = r.lines.filter((l) => l.startsWith("iid") && l.includes("restored"));
  assert.equal(starts[0].replace(/pid \d+/, "pid P"), 'iid 1 pid P restored ""');
  const last = starts.at(-1)!;
  assert.match(last, /restored "before the loop"$/);
  const cpu = r.lines.find((l) => l.includes(" cpu "));
  assert.ok(cpu, r.stdout + r.stderr);
  const ms = Number(cpu.match(/cpu (\d+) ms/)![1]);
  assert.ok(ms < 250, `a thread still spins: ${cpu}`);
  // Every process that handed over is gone, taking its stuck thread with it.
  const pids = new Set(starts.map((l) => Number(l.match(/pid (\d+)/)![1])));
  const lastPid = Number(last.match(/pid (\d+)/)![1]);
  for (const pid of pids) {
    if (pid !== lastPid) assert.ok(!existsSync(`/proc/${pid}`), `process ${pid} is still there`);
  }
  // Where terminate() cannot stop a busy loop (Deno), the process handed over to a new one.
  assert.equal(pids.size > 1, !runtime.terminateInterruptsCode, `processes: ${[...pids]}`);
  assert.equal(r.code, 0, r.stderr);
});

test("register() with respawnOnStuckThread: false goes on in the same process beside a thread terminate() could not stop", async () => {
  const r = await runApp("stuck.ts", { SAM_RESPAWN: "0" });
  const starts = r.lines.filter((l) => l.includes("restored"));
  assert.ok(starts.length >= 2, r.stdout + r.stderr);
  assert.match(starts.at(-1)!, /restored "before the loop"$/);
  const pids = new Set(starts.map((l) => l.match(/pid (\d+)/)![1]));
  assert.equal(pids.size, 1, `processes: ${[...pids]}`);
  // The price, where terminate() cannot stop a busy loop (Deno): the thread spins on. The
  // instance itself uses a few ms of the window; a spinning thread, even on a loaded
  // machine, a good part of it.
  const ms = Number(r.lines.find((l) => l.includes(" cpu "))!.match(/cpu (\d+) ms/)![1]);
  assert.equal(ms >= 100, !runtime.terminateInterruptsCode, `cpu ${ms} ms in 500 ms`);
  assert.equal(r.code, 0, r.stderr);
});

for (const hang of ["busy", "wait"]) {
  test(`Supervisor.status says whether a thread terminated in a ${hang} hang stopped or spins, as CPU time shows`, async () => {
    const r = await runApp("stuck_status.ts", { SAM_HANG: hang });
    const m = r.stdout.match(
      /code=(\d+) thread=(\w+) reported=(\w+) spinning=(\w+) stuckThreads=(\d+)/,
    );
    assert.ok(m, r.stdout + r.stderr);
    const [, code, thread, reported, spinning, stuck] = m;
    assert.equal(code, "143");
    assert.equal(reported, spinning, r.stdout);
    if (spinning === "true") assert.equal(thread, "stuck");
    assert.equal(Number(stuck), thread === "stuck" ? 1 : 0);
  });
}

test("an instance's last output, an uncaught error with a slow cause too, comes before anything the next instance prints", async () => {
  const r = await runApp("error_order.ts");
  assert.equal(r.code, 0, r.stderr);
  const seen = r.stderr.split("\n").filter((l) => /is up|failed|Caused by|last line/.test(l));
  const want: string[] = [];
  for (let iid = 1; iid <= 5; iid++) {
    want.push(`instance ${iid} is up`);
    if (iid === 5) break;
    if (iid % 2 === 1) {
      want.push(`Error: instance ${iid} failed`, `Caused by: cause ${iid}`);
    } else {
      for (let line = 1; line <= 3; line++) want.push(`instance ${iid} last line ${line}`);
    }
  }
  assert.deepEqual(seen, want, r.stderr);
});
