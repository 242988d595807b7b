import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { command, fixtureEnv, runApp } from "./harness/helpers.ts";

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
  const stderr = r.stderr.split("\n").filter((l) => !/^sam\[\d+\]: /.test(l)).join("\n");
  assert.equal(stderr, "instance 1 is still there\nexit 0\n");
});

test("register() ends supervision with the exit code of an instance that ends while stopped", async () => {
  const r = await runApp("ends.ts", { SAM_END_MODE: "stopped-exit" });
  assert.deepEqual(r.lines, ["iid 1"]);
  assert.equal(r.code, 5);
});

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
