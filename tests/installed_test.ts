// sam as users get it, never from this checkout: on Deno imported from "jsr:@x/sam" out of a
// local registry laid out as JSR's (scripts/jsr_registry.ts), on Bun and Node installed from
// JSR's npm-compatible package (scripts/npm_package.ts) with npm into a fresh project, and on
// Bun compiled from that install. Each program is one a user writes (tests/testdata/installed).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fixture, runApp, startApp, within } from "./harness/helpers.ts";
import { buildRegistry, type ServedRegistry, serveRegistry } from "../scripts/jsr_registry.ts";
import { buildNpmPackage } from "../scripts/npm_package.ts";

const g = globalThis as { Deno?: unknown; Bun?: unknown };
const layout = g.Deno ? "jsr: on Deno" : g.Bun ? "npm package on Bun" : "npm package on Node";
const PROGRAMS = fixture("installed");

let dir = "";
let project = "";
let registry: ServedRegistry | undefined;
/** Environment of every program run here. */
let env: Record<string, string> = {};
/** The command line that runs a program of the project on this runtime. */
let argv: (file: string, ...permissions: string[]) => string[];

/** Runs a command to its end; asynchronously, as the registry is served by this process. */
async function sh(command: string, args: string[], cwd: string, extra = {}): Promise<void> {
  const r = await runApp("", extra, 120_000, undefined, undefined, [command, ...args], cwd);
  assert.equal(r.code, 0, `${command} ${args.join(" ")}: ${r.stderr}${r.stdout}`);
}

/** A project directory with the programs in it, as a user has them. */
function newProject(): string {
  const path = join(dir, "project");
  mkdirSync(path);
  for (const file of readdirSync(PROGRAMS)) copyFileSync(join(PROGRAMS, file), join(path, file));
  return path;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "sam-installed-"));
  if (g.Deno) {
    const registryDir = join(dir, "registry");
    buildRegistry(registryDir);
    registry = await serveRegistry(registryDir);
    project = newProject();
    const port = new URL(registry.url).host;
    env = { JSR_URL: registry.url, DENO_DIR: join(dir, "deno_dir") };
    writeFileSync(join(project, "deno.json"), "{}\n");
    // What a user runs to add sam (it writes the import map into deno.json).
    await sh(process.execPath, ["add", "jsr:@x/sam"], project, env);
    // Read access to the program's files is what sam needs; --allow-import is for this
    // registry's address only (jsr.io is allowed by default).
    argv = (file, ...permissions) => [
      process.execPath,
      "run",
      "--allow-read",
      `--allow-import=${port}`,
      ...permissions,
      join(project, file),
    ];
  } else {
    const tarball = buildNpmPackage(dir);
    project = newProject();
    writeFileSync(join(project, "package.json"), JSON.stringify({ type: "module", private: true }));
    await sh("npm", ["install", "--no-audit", "--no-fund", `@x/sam@file:${tarball}`], project);
    argv = (file) => [process.execPath, join(project, file)];
  }
});

after(async () => {
  await registry?.[Symbol.asyncDispose]();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs `file` of the project to its end. */
function run(file: string, command = argv(file)) {
  return runApp("", env, 60_000, undefined, undefined, command, project);
}

test(`installed (${layout}): the quick start recovers a crash with its stored data`, async () => {
  const r = await run("quick_start.ts");
  assert.deepEqual(r.lines, [
    `instance 1 restores ""`,
    `instance 2 restores "stored by instance 1"`,
  ], r.stderr);
  assert.match(r.stderr, /instance 1 crashes/);
  assert.equal(r.code, 7, r.stderr + r.log.join("\n"));
});

test(`installed (${layout}): "jsr:@x/sam" imported without deno add works alike`, {
  skip: g.Deno ? false : "Deno only (jsr: specifiers)",
}, async () => {
  const source = readFileSync(join(project, "quick_start.ts"), "utf8");
  writeFileSync(join(project, "quick_start_jsr.ts"), source.replace('"@x/sam"', '"jsr:@x/sam"'));
  const r = await run("quick_start_jsr.ts");
  assert.deepEqual(r.lines.at(-1), `instance 2 restores "stored by instance 1"`, r.stderr);
  assert.equal(r.code, 7, r.stderr);
});

test(`installed (${layout}): supervise() runs the instance module beside the program`, async () => {
  const r = await run("supervise_main.ts");
  assert.deepEqual(r.lines, [
    `instance 1 restores "given by the program"`,
    "restart 2",
    `instance 2 restores "stored by instance 1"`,
    `done exited 5 "stored by instance 1"`,
  ], r.stderr);
  assert.equal(r.code, 5, r.stderr);
});

test(`installed (${layout}): a hung instance is recovered in the same process with its data`, async () => {
  // --allow-ffi on Deno, whose hung thread cannot be stopped: sam replaces the process image.
  const r = await run("hang.ts", argv("hang.ts", "--allow-ffi"));
  const pid = r.lines[0]?.match(/^instance 1 pid (\d+) restores ""$/)?.[1];
  assert.ok(pid, r.stdout + r.stderr);
  assert.deepEqual(r.lines, [
    `instance 1 pid ${pid} restores ""`,
    `instance 2 pid ${pid} restores "stored by instance 1"`,
  ], r.stderr);
  assert.equal(r.code, 7, r.stderr + r.log.join("\n"));
});

/** A loopback port that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    }).on("error", reject);
  });
}

test(`installed (${layout}): the service answers before and after a recovery`, async () => {
  const port = await freePort();
  const command = argv("service.ts", "--allow-net=127.0.0.1", "--allow-env=PORT");
  const app = startApp("", { ...env, PORT: String(port) }, 60_000, command, project);
  try {
    // A new connection for each request: a kept one may lead to the instance that ended.
    const get = async (path: string) =>
      await (await fetch(`http://127.0.0.1:${port}${path}`, {
        headers: { connection: "close" },
      })).text();
    await within(app.line((l) => l === "instance 1 listening"), 30_000, "instance 1");
    assert.equal(await get("/"), "instance 1 after 0");
    assert.equal(await get("/crash"), "instance 1 after 0");
    await within(app.line((l) => l === "instance 2 listening"), 30_000, "instance 2");
    assert.equal(await get("/"), "instance 2 after 2");
    app.child.kill("SIGTERM");
    const r = await within(app.done, 30_000, "the end");
    assert.equal(r.code, 128 + 15, r.stderr);
  } finally {
    app.child.kill("SIGKILL");
  }
});

test(`installed (${layout}): bun build --compile of the install recovers a crash`, {
  skip: g.Bun ? false : "Bun only (bun build --compile)",
}, async () => {
  const outfile = join(dir, "app");
  await sh(process.execPath, [
    "build",
    "--compile",
    "quick_start.ts",
    "node_modules/@x/sam/worker_shim.js",
    "--outfile",
    outfile,
  ], project);
  // Run away from the project, as a deployed binary is.
  const r = await runApp("", {}, 60_000, undefined, undefined, [outfile], dir);
  assert.deepEqual(r.lines.at(-1), `instance 2 restores "stored by instance 1"`, r.stderr);
  assert.equal(r.code, 7, r.stderr);
});

test(`installed (${layout}): a compiled program without sam's worker_shim says what it lacks`, {
  skip: g.Bun ? false : "Bun only (bun build --compile)",
}, async () => {
  const outfile = join(dir, "app_without_shim");
  await sh(
    process.execPath,
    ["build", "--compile", "quick_start.ts", "--outfile", outfile],
    project,
  );
  const r = await runApp("", {}, 60_000, undefined, undefined, [outfile], dir);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr + r.log.join("\n"),
    /cannot start instance 1: .*node_modules\/@x\/sam\/worker_shim\.js/,
  );
});
