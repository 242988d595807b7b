// A libsam-style program compiled into one executable supervises and recovers as it does from
// source. Bun only: `deno compile` downloads its runtime (denort), which an offline machine
// cannot; Node has no compiler.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";

const skip = "Bun" in globalThis ? false : "Bun only (deno compile downloads denort, not tested)";
const REPO = fileURLToPath(new URL("..", import.meta.url));
const FIXTURE = join(REPO, "tests", "testdata", "compiled_app.ts");

/** Builds `entries` (the program's first), run from `cwd`, into the executable `dir`/app. */
function compile(cwd: string, entries: string[], dir: string): string {
  const outfile = join(dir, "app");
  const args = ["build", "--compile", ...entries, "--outfile", outfile];
  const r = spawnSync(process.execPath, args, { cwd, encoding: "utf8" });
  assert.equal(r.status, 0, `bun build failed: ${r.stderr}`);
  return outfile;
}

/** Runs `binary` as the tests run their fixtures (the helpers load sam's runtime: Bun only). */
async function run(binary: string) {
  const { runApp } = await import("./harness/helpers.ts");
  let pid = 0;
  const r = await runApp("", {}, 60_000, undefined, (child) => pid = child.pid!, [binary]);
  return { ...r, pid };
}

/** Instance 2 restored what instance 1 stored before it crashed, in the same process. */
async function assertRecovers(binary: string): Promise<void> {
  const r = await run(binary);
  assert.deepEqual(r.lines, [
    `instance 1 pid ${r.pid} restores ""`,
    `instance 2 pid ${r.pid} restores "stored by instance 1"`,
  ], r.stderr);
  assert.match(r.stderr, /instance 1 crashes/);
  assert.equal(r.code, 7, r.stderr);
}

function inTempDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-compile-"));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  "bun build --compile: a program built with worker_shim.ts recovers in its process",
  { skip },
  inTempDir(async (dir) => {
    await assertRecovers(compile(REPO, [FIXTURE, join(REPO, "worker_shim.ts")], dir));
  }),
);
