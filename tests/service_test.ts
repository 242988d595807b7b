// A service on a fixed loopback port under a client that sends one request per connection as
// fast as it is answered (tests/testdata/service_run.ts): back after a crash on every runtime
// and server, reloaded to new code with no failed request, and a failed reload that leaves the
// old code serving.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { runtimeName } from "./harness/runtime.ts";
import { command, runApp } from "./harness/helpers.ts";
import type { LoopResult } from "./harness/service_client.ts";

/** The servers of each runtime: Deno.serve, Bun.serve, node:http. */
const SERVERS: Record<string, string[]> = {
  deno: ["deno", "node"],
  bun: ["bun", "node"],
  node: ["node"],
};
const PORT = 47600 + ({ deno: 0, bun: 20, node: 40 } as Record<string, number>)[runtimeName];

interface Run {
  failure: string | null;
  loop: LoopResult;
  marks: Record<string, number>;
  code: number;
  lines: string[];
  log: string[];
  stderr: string;
}

/**
 * The command that runs a child in a network namespace of its own with its loopback up and
 * net.ipv4.tcp_migrate_req=1, so that a connection waiting in the queue of a listener that
 * closes moves to another listener of its reusePort group (Linux 5.14); null where the test
 * cannot make one (not root, no unshare).
 */
function inOwnNetwork(): string[] | null {
  try {
    execFileSync("unshare", ["--net", "sh", "-c", "ip link set lo up"], { stdio: "ignore" });
  } catch {
    return null;
  }
  const setUp = 'ip link set lo up && sysctl -qw net.ipv4.tcp_migrate_req=1 && exec "$@"';
  return ["unshare", "--net", "sh", "-c", setUp, "sh"];
}

async function run(
  scenario: string,
  server: string,
  reuse: boolean,
  port: number,
  wrap: string[] = [],
): Promise<Run> {
  const env = {
    SAM_SCENARIO: scenario,
    SAM_SERVER: server,
    SAM_REUSE: reuse ? "1" : "0",
    SAM_PORT: String(port),
  };
  const argv = [...wrap, ...command("service_run.ts")];
  const r = await runApp("service_run.ts", env, 90_000, undefined, undefined, argv);
  const json = r.lines.find((l) => l.startsWith("{"));
  assert.ok(json, r.stdout + r.stderr);
  const result = JSON.parse(json) as Run;
  assert.equal(result.failure, null, json);
  return result;
}

const served = (r: LoopResult) => r.bodies.map((b) => b.body);

SERVERS[runtimeName].forEach((server, i) => {
  test(`a ${server} service on a fixed port, without reusePort, serves again after a crash under a request loop`, async () => {
    const r = await run("crash", server, false, PORT + i);
    const what = JSON.stringify(r);
    assert.equal(r.code, 143, what);
    assert.doesNotMatch(r.stderr, /in use|AddrInUse|EADDRINUSE/);
    assert.deepEqual(r.log.slice(0, 2), [
      "instance 1 ended with code 1",
      "instance 2 starts (a restart)",
    ]);
    assert.equal(served(r.loop).at(-1), "instance 2 version v1", what);
    // Refused while no instance listens; reset for a request the crashing one had taken.
    for (const { error } of r.loop.errors) assert.match(error, /^ECONN(REFUSED|RESET)$/);
  });
});

/** Servers that share a port with reusePort here (Bun's node:http ignores it). */
const RELOADABLE = SERVERS[runtimeName].filter((s) => !(runtimeName === "bun" && s === "node"));

RELOADABLE.forEach((server, i) => {
  test(`a ${server} service with reusePort reloads to new code under a request loop with no failed request, the new instance starting from the old one's last store; a reload to broken code leaves it serving`, async (t) => {
    const wrap = inOwnNetwork();
    if (wrap === null) {
      return t.skip("needs a network namespace of its own (root, unshare) for tcp_migrate_req");
    }
    const r = await run("reload", server, true, PORT + 10 + i, wrap);
    const what = JSON.stringify(r);
    if (runtimeName === "deno") {
      // On Deno a request that the old listener took just before it closed may fail (the
      // README says so); none fails elsewhere in the reload.
      const start = r.marks["listening 1"];
      for (const { at } of r.loop.errorsAt) {
        assert.ok(start + at >= r.marks.reload && start + at <= r.marks["took over"], what);
      }
    } else {
      assert.equal(r.loop.failed, 0, what);
    }
    assert.deepEqual(
      new Set(served(r.loop)),
      new Set(["instance 1 version v1", "instance 2 version v2"]),
    );
    assert.equal(served(r.loop).at(-1), "instance 2 version v2", what);
    assert.equal(r.code, 143, what);
    // Every store whole, and the new instance starts from the old one's last.
    const left = r.lines.find((l) => l.startsWith("instance 1 left at "))!.split(" ").at(-1);
    assert.ok(r.lines.includes(`listening 2 version v2 count ${left}`), what);
    assert.ok(r.lines.includes("reload failed 3 ended 1"), what);
    assert.ok(!r.lines.some((l) => /torn/.test(l)), what);
    assert.deepEqual(r.log.filter((l) => /reload|starts|took over/.test(l)), [
      "instance 2 starts from the program's files beside instance 1 (a reload)",
      "instance 2 took over from instance 1 (reloaded)",
      "instance 3 starts from the program's files beside instance 2 (a reload)",
      "reload failed: instance 3 ended with code 1 before start(); instance 2 serves on",
    ]);
    assert.ok(r.log.includes("instance 1 warned with SIGTERM"), what);
    assert.ok(r.log.includes("instance 1 ended with code 0"), what);
  });
});

test("on Bun, a node:http service cannot share its port (Bun ignores reusePort there): a reload is reported failed and the old instance serves on", async (t) => {
  if (runtimeName !== "bun") return t.skip("Bun's node:http only");
  const r = await run("reload-once", "node", true, PORT + 15);
  const what = JSON.stringify(r);
  assert.equal(r.loop.failed, 0, what);
  assert.deepEqual(served(r.loop), ["instance 1 version v1"]);
  assert.ok(r.lines.includes("reload failed 2 ended 1"), what);
  assert.match(r.stderr, /Is port \d+ in use/);
});
