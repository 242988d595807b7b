// A terminated instance whose thread the runtime did not stop (Deno 2.7 to 2.9: a busy loop
// or an endless Atomics.wait) is left behind by a hand-over in place: the same process, in a
// new image. Runtimes whose terminate() stops threads never hand over.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runtime } from "../platform/runtime.ts";
import { runtimeName } from "./harness/runtime.ts";
import { command, fixture, runApp, startApp, within } from "./harness/helpers.ts";

/** Whether this runtime leaves a terminated thread running, so that sam hands over. */
const handsOver = !runtime.terminateInterruptsCode;

interface StuckRun {
  pids: Set<number>;
  lastRestored: string;
  cpuMs: number;
  threads: number;
  code: number | null;
  stderr: string;
}

function parseStuck(r: { lines: string[]; code: number | null; stderr: string }): StuckRun {
  const starts = r.lines.filter((l) => l.startsWith("iid") && l.includes("restored"));
  assert.ok(starts.length >= 2, r.lines.join("\n") + r.stderr);
  assert.match(starts[0], /^iid 1 pid \d+ restored ""$/);
  const cpu = r.lines.find((l) => l.includes(" cpu "));
  assert.ok(cpu, r.lines.join("\n") + r.stderr);
  const m = cpu.match(/cpu (\d+) ms in 500 ms threads (\d+)/)!;
  return {
    pids: new Set(starts.map((l) => Number(l.match(/pid (\d+)/)![1]))),
    lastRestored: starts.at(-1)!.match(/restored "(.*)"$/)![1],
    cpuMs: Number(m[1]),
    threads: Number(m[2]),
    code: r.code,
    stderr: r.stderr,
  };
}

for (const hang of ["busy", "wait"]) {
  test(`register() recovers an instance hung in ${hang} in the same process, with nothing of it left and the data carried over`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-handover-"));
    try {
      const run = parseStuck(await runApp("stuck.ts", { SAM_HANG: hang, TMPDIR: dir }));
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.pids.size, 1, `processes: ${[...run.pids]}`);
      assert.equal(run.lastRestored, "before the hang");
      // A thread still spinning would use most of the window.
      assert.ok(run.cpuMs < 250, `a thread still spins: ${run.cpuMs} ms`);
      assert.equal(
        run.stderr.includes("starts in a new image of the process (exec)"),
        handsOver,
        run.stderr,
      );
      assert.deepEqual(readdirSync(dir), [], "the hand-over left a file behind");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('register() with handOver: "none" goes on in the same process beside a thread terminate() could not stop', async () => {
  const run = parseStuck(await runApp("stuck.ts", { SAM_HANG: "busy", SAM_HANDOVER: "none" }));
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.pids.size, 1);
  assert.equal(run.lastRestored, "before the hang");
  // The price where terminate() cannot stop a busy loop (Deno): the thread spins on.
  assert.equal(run.cpuMs >= 100, handsOver, `cpu ${run.cpuMs} ms in 500 ms`);
});

test("register() hands over to the program as PID 1 of a new PID namespace, which lives on", async (t) => {
  if (process.getuid?.() !== 0) return t.skip("needs root for unshare --pid");
  const probe = spawnSync("unshare", ["--pid", "--fork", "--mount-proc", "true"]);
  if (probe.status !== 0) return t.skip("unshare --pid --fork --mount-proc does not work here");
  const argv = [
    "unshare",
    "--pid",
    "--fork",
    "--mount-proc",
    "--kill-child",
    ...command("stuck.ts"),
  ];
  const r = await runApp("stuck.ts", { SAM_HANG: "busy" }, 60_000, undefined, undefined, argv);
  const run = parseStuck(r);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual([...run.pids], [1], "the program is PID 1 from start to end");
  assert.equal(run.lastRestored, "before the hang");
});

test("register() without FFI permission on Deno ends with code 70 and says why, rather than go on beside a stuck thread", async (t) => {
  if (runtimeName !== "deno") return t.skip("only Deno needs FFI to hand over");
  const argv = [process.execPath, "run", "--allow-read", "--allow-env", fixture("stuck.ts")];
  const r = await runApp("stuck.ts", { SAM_HANG: "busy" }, 60_000, undefined, undefined, argv);
  assert.equal(r.code, 70, r.stderr);
  assert.match(r.stderr, /needs FFI \(Deno: --allow-ffi\).*ends with code 70/);
  assert.equal(r.lines.length, 1, r.stdout);
  assert.match(r.lines[0], /^iid 1 pid \d+ restored ""$/);
});

test("register() on Deno with --allow-ffi but no --allow-all still sees the stuck thread and hands over", async (t) => {
  if (runtimeName !== "deno") return t.skip("only Deno needs FFI to hand over");
  const flags = ["--allow-read", "--allow-env", "--allow-ffi"];
  const argv = [process.execPath, "run", ...flags, fixture("stuck.ts")];
  const r = await runApp("stuck.ts", { SAM_HANG: "wait" }, 60_000, undefined, undefined, argv);
  const starts = r.lines.filter((l) => l.includes("restored"));
  assert.equal(starts.length, 2, r.stdout + r.stderr);
  assert.match(starts[1], /^iid 2 pid \d+ restored "before the hang"$/);
  assert.equal(new Set(starts.map((l) => l.split(" ")[3])).size, 1, "the same process");
  assert.match(r.stderr, /starts in a new image of the process \(exec\)/);
});

test("an HTTP service on a fixed port serves again, in the same process, after a busy loop and an endless Atomics.wait in a handler", async () => {
  const port = 47700 + (runtimeName === "deno" ? 0 : runtimeName === "bun" ? 1 : 2);
  const app = startApp("http_service.ts", { SAM_PORT: String(port) });
  try {
    const url = (path: string) => `http://127.0.0.1:${port}${path}`;
    // A new connection each time: a pooled one may lead to the instance that was terminated.
    const get = (path: string) => fetch(url(path), { headers: { connection: "close" } });
    const hello = async () => await (await get("/hello")).text();
    await within(app.line((l) => l === "listening 1"), 20_000, "instance 1");
    const first = await hello();
    assert.match(first, /^instance 1 pid \d+ restored 0$/);
    const pid = first.split(" ")[3];
    for (const [path, next] of [["/busy", 2], ["/wait", 3]] as const) {
      // The hung handler never answers; its connection ends with the instance.
      get(path).then((r) => r.body?.cancel(), () => {});
      await within(app.line((l) => l === `listening ${next}`), 20_000, `instance ${next}`);
      assert.equal(await hello(), `instance ${next} pid ${pid} restored ${next - 1}`);
    }
    app.child.kill("SIGTERM");
    const r = await within(app.done, 20_000, "the end");
    assert.doesNotMatch(r.stderr, /AddrInUse|EADDRINUSE/);
    assert.equal(r.code, 128 + 15, r.stderr);
  } finally {
    app.child.kill("SIGKILL");
  }
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
