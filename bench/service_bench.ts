// A service on a fixed loopback port under a client sending one request per connection as
// fast as it is answered: what a crash and a reload cost it, on the runtime running this, with
// the runtime's own server (Deno.serve, Bun.serve, node:http on Node) and reusePort, as the
// README shows it. Beside it, the same service without sam, started again by a shell loop.
// Prints ONE JSON line; bench/run.ts adds its fields to the runtime's line. The network
// namespace is the machine's (net.ipv4.tcp_migrate_req as it is set there).
import process from "node:process";
import { spawn } from "node:child_process";
import { runtimeName } from "../tests/harness/runtime.ts";
import { command, runApp } from "../tests/harness/helpers.ts";
import { get, type LoopResult, requestLoop } from "../tests/harness/service_client.ts";

const RUNS = 3;
const SERVER = ({ deno: "deno", bun: "bun", node: "node" } as Record<string, string>)[runtimeName];
const PORT = 47560 + ({ deno: 0, bun: 5, node: 10 } as Record<string, number>)[runtimeName];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

interface Run {
  failure: string | null;
  loop: LoopResult;
  marks: Record<string, number>;
}

/** One scenario of tests/testdata/service_run.ts. */
async function scenario(name: string): Promise<Run> {
  const env = {
    SAM_SCENARIO: name,
    SAM_SERVER: SERVER,
    SAM_REUSE: "1",
    SAM_PORT: String(PORT),
  };
  const r = await runApp("service_run.ts", env, 60_000, undefined, undefined, [
    ...command("service_run.ts"),
  ]);
  const json = r.lines.find((l) => l.startsWith("{"));
  const run = json ? JSON.parse(json) as Run : null;
  if (run === null || run.failure !== null) {
    throw new Error(`service bench: ${name}: ${run?.failure ?? r.stdout + r.stderr}`);
  }
  return run;
}

/** The same service without sam, in a shell loop, through one crash. */
async function shellLoop(): Promise<LoopResult> {
  const argv = runtimeName === "deno"
    ? [
      process.execPath,
      "run",
      "--allow-all",
      new URL("./_plain_service.ts", import.meta.url).pathname,
    ]
    : [process.execPath, new URL("./_plain_service.ts", import.meta.url).pathname];
  const quoted = argv.map((a) => `'${a}'`).join(" ");
  const shell = spawn("sh", ["-c", `while :; do ${quoted}; done`], {
    env: { ...process.env, SAM_PORT: String(PORT + 1), SAM_SERVER: SERVER },
    stdio: "ignore",
    detached: true,
  });
  try {
    for (let i = 0; i < 400; i++) {
      const up = await get(PORT + 1, "/hello").then(() => true, () => false);
      if (up) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const steps = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const before = await get(PORT + 1, "/hello");
      get(PORT + 1, "/crash").catch(() => {});
      // Back once another process answers.
      for (let i = 0; i < 2000; i++) {
        const now = await get(PORT + 1, "/hello").catch(() => before);
        if (now !== before) break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    })();
    return await requestLoop(PORT + 1, steps);
  } finally {
    // The loop and the service it runs, as a group.
    process.kill(-shell.pid!, "SIGKILL");
  }
}

const out: Record<string, number> = {};
const crash = [];
const loop = [];
const reload = [];
for (let i = 0; i < RUNS; i++) {
  crash.push(await scenario("crash"));
  loop.push(await shellLoop());
  reload.push(await scenario("reload-once"));
}
out.crash_failed_requests = median(crash.map((r) => r.loop.failed));
out.crash_unavailable_ms = Number(median(crash.map((r) => r.loop.longestGapMs)).toFixed(1));
out.crash_failed_requests_shell_loop = median(loop.map((r) => r.failed));
out.crash_unavailable_ms_shell_loop = Number(median(loop.map((r) => r.longestGapMs)).toFixed(1));
out.reload_failed_requests = Math.max(...reload.map((r) => r.loop.failed));
out.reload_ms = median(reload.map((r) => r.marks["took over"] - r.marks.reload));
process.stdout.write(JSON.stringify({ service_server: SERVER, service_runs: RUNS, ...out }) + "\n");
