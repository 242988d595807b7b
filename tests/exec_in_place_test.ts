// execInPlace() and takeHandOver(): fixture programs replace their own image and report on
// both images; the tests check what the process looks like from outside (its pid, threads,
// exit code, the port it held, the temporary folder).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runtimeName } from "./harness/runtime.ts";
import { command, fixture } from "./harness/helpers.ts";

interface Run {
  pid: number;
  code: number | null;
  signal: string | null;
  lines: Record<string, any>[];
  stderr: string;
  /** What onLine() returned for each line, by line number. */
  seen: unknown[];
}

/**
 * Runs `argv` and resolves once its output is closed (image 2 holds the same pipes as image 1).
 * Each stdout line is parsed as JSON (or kept as `{ raw }`) and handed to `onLine` while the
 * process still runs. Killed after `timeoutMs`, and on the way out if it still runs; for a
 * namespace, unshare's --kill-child takes everything in it along.
 */
async function run(
  argv: string[],
  env: Record<string, string> = {},
  onLine?: (line: Record<string, any>, pid: number) => unknown,
  timeoutMs = 30_000,
): Promise<Run> {
  const child = spawn(argv[0], argv.slice(1), {
    env: { ...process.env, ...env, NO_COLOR: "1" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const result: Run = {
    pid: child.pid!,
    code: null,
    signal: null,
    lines: [],
    stderr: "",
    seen: [],
  };
  let buffered = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
      const text = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      let line: Record<string, any>;
      try {
        line = JSON.parse(text);
      } catch {
        line = { raw: text };
      }
      result.lines.push(line);
      result.seen.push(onLine?.(line, result.pid));
    }
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => result.stderr += chunk);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    return await new Promise<Run>((resolve, reject) => {
      child.on("error", reject);
      child.on("exit", (code, signal) => [result.code, result.signal] = [code, signal]);
      child.on("close", () => resolve(result));
    });
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

const pattern = (i: number) => (i ^ (i >>> 8) ^ (i >>> 16) ^ 0x5a) & 255;
function checksum(size: number): number {
  let sum = 0;
  for (let i = 0; i < size; i++) sum = (sum * 31 + pattern(i)) >>> 0;
  return sum;
}

/** A loopback port of its own for each runtime, so that Deno and Bun runs never collide. */
const PORT = runtimeName === "deno" ? 47613 : 47614;

/** Threads of process `pid` that still exist, of `tids`. */
const alive = (pid: number, tids: number[]) =>
  tids.filter((tid) => existsSync(`/proc/${pid}/task/${tid}`));

interface StuckRun extends Run {
  tmp: string[];
}

/** One run of exec_stuck.ts, shared by the tests that look at different sides of it. */
let stuckRun: Promise<StuckRun> | undefined;
function runStuck(): Promise<StuckRun> {
  stuckRun ??= (async () => {
    const tmp = mkdtempSync(join(tmpdir(), "sam-exec-test-"));
    try {
      let oldTids: number[] = [];
      const result = await run(command("exec_stuck.ts"), {
        EXEC_PORT: String(PORT),
        TMPDIR: tmp,
      }, (line, pid) => {
        if (line.image === 1 && line.spinTid) oldTids = [line.spinTid, line.sleepTid];
        // Looked at from outside while the new image runs: which of the old threads remain.
        if (line.image === 2 && line.pid) return alive(pid, oldTids);
      });
      return { ...result, tmp: readdirSync(tmp) };
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  })();
  return stuckRun;
}

/** Node has no FFI, and its terminate() stops every thread: it never execs in place. */
const NO_EXEC = runtimeName === "node" ? "Node has no FFI and needs no exec in place" : false;
if (NO_EXEC) console.log(`skipping exec_in_place_test.ts: ${NO_EXEC}`);

test(
  "execInPlace() replaces an image whose Workers terminate() left running: same pid, the bytes, no old thread, idle, its exit code",
  { skip: NO_EXEC },
  async () => {
    const r = await runStuck();
    assert.equal(r.stderr, "");
    assert.equal(r.lines.length, 5, JSON.stringify(r.lines));
    const [before, , first, check, last] = r.lines;
    assert.equal(before.pid, r.pid, "image 1 is the process the test started");
    if (runtimeName === "deno") {
      // The problem this solves, as Deno 2.9 has it: both threads outlive terminate().
      assert.equal(before.spinAlive, true, "the spinning Worker's thread stays after terminate()");
      assert.equal(before.sleepAlive, true, "the sleeping Worker's thread stays after terminate()");
      // Any CPU at all: a thread that had stopped, or only slept, would use none.
      assert.ok(before.spinCpuMsIn300 >= 30, `it spins on: ${before.spinCpuMsIn300} ms of 300`);
    }
    assert.equal(first.image, 2);
    assert.equal(first.pid, r.pid, "the new image has the same pid");
    assert.equal(first.length, 1 << 20);
    assert.equal(check.equal, true, "the payload came back byte for byte");
    assert.equal(check.checksum, checksum(1 << 20));
    assert.deepEqual(r.seen[2], [], "no thread of the old image is left in the process");
    const oldTasks = new Set<number>(before.tasks);
    assert.deepEqual(
      last.tasks.filter((tid: number) => tid !== r.pid && oldTasks.has(tid)),
      [],
      "the new image's threads are all new",
    );
    assert.ok(last.cpuMsIn200 < 100, `the new image idles: ${last.cpuMsIn200} ms in 200 ms`);
    assert.deepEqual(last.masks, before.masks, "signal mask and ignored signals as before");
    assert.equal(r.code, 7, "the parent sees the new image's exit code");
  },
);

test(
  "execInPlace() releases a listening socket that a spinning Worker held",
  { skip: NO_EXEC },
  async () => {
    const r = await runStuck();
    const [before, , , , last] = r.lines;
    if (runtimeName === "deno") {
      assert.equal(before.listen, "EADDRINUSE", "the terminated Worker still holds the port");
    }
    assert.equal(last.listen, "ok", "the new image listens on the same port");
  },
);

test("execInPlace() leaves no file in the temporary folder and takeHandOver() leaves no marker", {
  skip: NO_EXEC,
}, async () => {
  const r = await runStuck();
  assert.deepEqual(r.tmp, [], "nothing was written to TMPDIR");
  const last = r.lines[4];
  assert.equal(last.markerInEnv, null, "process.env has no marker after takeHandOver()");
  assert.equal(last.markerInChild, false, "a child started afterwards gets no marker");
  assert.deepEqual(last.memfds, [], "the memfd is closed");
});

test("execInPlace() carries a payload of odd size that takes several writes, and an empty one", {
  skip: NO_EXEC,
}, async () => {
  for (const size of [(5 << 20) + 3, 0]) {
    const r = await run(command("exec_stuck.ts"), { EXEC_PAYLOAD: String(size) });
    assert.equal(r.stderr, "");
    const [, , first, check] = r.lines;
    assert.equal(first?.image, 2, JSON.stringify(r.lines));
    assert.equal(first.length, size);
    assert.equal(check.equal, true);
    assert.equal(check.checksum, checksum(size));
    assert.equal(r.code, 7);
  }
});

const unshareSkip = (() => {
  if (process.getuid?.() !== 0) return "not root";
  const probe = spawnSync("unshare", ["--pid", "--fork", "--mount-proc", "true"]);
  return probe.error || probe.status !== 0 ? "unshare --pid --fork --mount-proc does not work" : "";
})();
if (unshareSkip) {
  console.log(`skipping the PID-namespace test of exec_in_place_test.ts: ${unshareSkip}`);
}

test(
  "execInPlace() works for PID 1 of a new PID namespace, which exits with the new image's code",
  {
    skip: NO_EXEC || unshareSkip || false,
  },
  async () => {
    const r = await run([
      "unshare",
      "--pid",
      "--fork",
      "--mount-proc",
      "--kill-child",
      ...command("exec_stuck.ts"),
    ]);
    assert.equal(r.stderr, "");
    assert.equal(r.lines.length, 5, JSON.stringify(r.lines));
    assert.equal(r.lines[0].pid, 1, "image 1 is PID 1 of its namespace");
    assert.equal(r.lines[2].pid, 1, "and so is image 2");
    assert.equal(r.lines[3].equal, true);
    assert.deepEqual(r.lines[4].tasks.filter((tid: number) => r.lines[0].tasks.includes(tid)), [1]);
    assert.equal(r.code, 7, "unshare passes on the exit code of the new image");
  },
);

test(
  "takeHandOver() gives null, and leaves the descriptor alone, for a missing or garbled marker",
  { skip: NO_EXEC },
  async () => {
    const markers = [
      "abc",
      "",
      "1,{pid}",
      "999,{pid}",
      "{file},{pid}",
      "{memfd},{pid}",
      "{memfd},1",
    ];
    const r = await run(command("exec_probe.ts"), { PROBE_MARKERS: JSON.stringify(markers) });
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    const [{ can, taken, results }] = r.lines;
    assert.equal(can, true);
    assert.equal(taken, null);
    assert.deepEqual(results, [
      { marker: "abc", taken: null, left: false, stillOpen: null },
      { marker: "", taken: null, left: false, stillOpen: null },
      { marker: "1,{pid}", taken: null, left: false, stillOpen: null },
      { marker: "999,{pid}", taken: null, left: false, stillOpen: false },
      { marker: "{file},{pid}", taken: null, left: false, stillOpen: true },
      { marker: "{memfd},{pid}", taken: null, left: false, stillOpen: true },
      { marker: "{memfd},1", taken: null, left: false, stillOpen: true },
    ]);
  },
);

test(
  "execInPlace() throws CS_ERR_LIBRARY with the errno when execve() fails, and closes the memfd",
  { skip: NO_EXEC },
  async () => {
    const r = await run(command("exec_probe.ts"), { PROBE_E2BIG: "1" });
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0, "the process goes on in its old image");
    const [{ failed }] = r.lines;
    assert.equal(failed?.name, "SamError", JSON.stringify(r.lines));
    assert.match(failed.message, /^CS_ERR_LIBRARY: execve\(\) of .+ failed: errno 7$/, "E2BIG");
    assert.deepEqual(failed.memfds, []);
  },
);

const noFfiSkip = runtimeName === "deno" ? "" : "only Deno has an FFI permission to lack";
if (noFfiSkip) console.log(`skipping the no-FFI test of exec_in_place_test.ts: ${noFfiSkip}`);

test("Without --allow-ffi on Deno, canExecInPlace() is false and nothing prompts", {
  skip: NO_EXEC || noFfiSkip || false,
}, async () => {
  // stdin is a pipe, not a terminal: a permission prompt would show on stderr or hang.
  const r = await run(
    [process.execPath, "run", "--allow-read", fixture("exec_probe.ts")],
    { SAM_HANDOVER_FD: "3,1" },
  );
  assert.equal(r.stderr, "");
  assert.deepEqual(r.lines, [{ can: false, taken: null, results: [] }]);
  assert.equal(r.code, 0);
});
