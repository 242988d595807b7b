// Supervisor.reload(): the next instance from the program's files as they are now, beside the
// serving one; what it resolves with, its events, and a reload that fails.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { CsError, RecoveryPolicy, supervise, type Supervisor } from "../mod.ts";

const MOD = new URL("../mod.ts", import.meta.url).href;

/**
 * A program in a folder of its own: it stores `<version> <id>`, and on its warning stores
 * `<version> <id> last` and ends. `before` runs before its start(), `after` after it.
 */
function program(version: string, before = "", after = ""): string {
  return `import * as sam from ${JSON.stringify(MOD)};
sam.initialize(300, sam.RecoveryPolicy.RESTART);
const iid = await sam.register();
const text = (b) => new TextDecoder().decode(b);
const store = (s) => sam.dataStore(new TextEncoder().encode(s));
sam.addSignalListener("SIGTERM", () => { store("${version} " + iid + " last"); self.close(); });
const seenBefore = text(sam.dataRestore());
${before}
await sam.start();
const seenAfter = text(sam.dataRestore());
${after}
store("${version} " + iid + " saw " + seenAfter + " / " + seenBefore);
setInterval(() => sam.hcSend(), 50);
`;
}

interface Fixture {
  path: string;
  write(source: string): void;
  [Symbol.dispose](): void;
}

function fixture(source: string): Fixture {
  const dir = mkdtempSync(join(tmpdir(), "sam-reload-"));
  const path = join(dir, "app.mjs");
  writeFileSync(path, source);
  return {
    path,
    write: (s) => writeFileSync(path, s),
    [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function events(supervisor: Supervisor): string[] {
  const seen: string[] = [];
  for (const type of ["instance", "warning", "exit", "reload", "restart"]) {
    supervisor.addEventListener(type, (e) => {
      const d = (e as CustomEvent).detail;
      const extra = d.outcome ? ` ${d.outcome}${d.reason ? ` ${d.reason}` : ""}` : "";
      seen.push(`${type} ${d.id}${extra}${d.code !== undefined ? ` ${d.code}` : ""}`);
    });
  }
  return seen;
}

function registered(supervisor: Supervisor, id: number): Promise<void> {
  return new Promise((resolve) => {
    const on = (e: CustomEvent<{ id: number }>) => {
      if (e.detail.id !== id) return;
      supervisor.removeEventListener("registered", on);
      resolve();
    };
    supervisor.addEventListener("registered", on);
  });
}

/** Resolves once the status says instance `id` is running (health checking started). */
function running(supervisor: Supervisor, id: number): Promise<void> {
  return new Promise((resolve) => {
    const look = () => {
      const s = supervisor.status;
      if (s.instanceId !== id || s.state !== "running") return;
      supervisor.removeEventListener("status", look);
      resolve();
    };
    supervisor.addEventListener("status", look);
    look();
  });
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** The stored text once it starts with `prefix`, looked at every 10 ms for at most 10 s. */
async function stored(supervisor: Supervisor, prefix: string): Promise<string> {
  for (let i = 0; i < 1000; i++) {
    const now = text(supervisor.data());
    if (now.startsWith(prefix)) return now;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return text(supervisor.data());
}

test("Supervisor.reload() runs the program's new files beside the serving instance, which ends at the new one's start(); the new one then holds its last store, and the record follows the serving instance", async () => {
  using app = fixture(program("v1"));
  await using supervisor = supervise(pathToFileURL(app.path), {
    timeInterval: 300,
    recoveryPolicy: RecoveryPolicy.RESTART | RecoveryPolicy.CMAP,
    corosyncRecord: "off",
  });
  const seen = events(supervisor);
  await running(supervisor, 1);
  app.write(program("v2"));
  const records: string[] = [];
  supervisor.addEventListener("status", (e) => {
    records.push(`${e.detail.status.instanceId} ${e.detail.status.state}`);
  });
  const result = await supervisor.reload();
  // libsam's record says running throughout: the serving instance's, then the new one's.
  assert.deepEqual(records, ["2 running"]);
  assert.deepEqual(result, { reloaded: true, id: 2, replaced: 1 });
  assert.deepEqual(seen, [
    "instance 1",
    "reload 2 begun",
    "instance 2",
    "warning 1",
    "exit 1 0",
    "reload 2 took-over",
  ]);
  assert.equal(supervisor.status.instanceId, 2);
  // Its start() returned with the old one's last store, from its warning listener.
  const data = await stored(supervisor, "v2 ");
  // Before it, it read what instance 1 had stored by then.
  assert.match(data, /^v2 2 saw v1 1 last \/ v1 1 /);
  assert.equal(supervisor.status.restarts, 1);
});

for (
  const [what, before, reason, code] of [
    ["throws before start()", `throw new Error("broken");`, "ended", 1],
    ["exits before start()", `process.exit(4);`, "ended", 4],
    ["has a syntax error", `const = ;`, "ended", 1],
    [
      "never calls start() within reloadTimeout",
      `await new Promise(() => setInterval(() => {}, 1000));`,
      "timeout",
      undefined,
    ],
  ] as const
) {
  test(`Supervisor.reload() to a program that ${what} resolves reloaded: false, leaves the serving instance running and is not retried`, async () => {
    using app = fixture(program("v1"));
    await using supervisor = supervise(pathToFileURL(app.path), {
      timeInterval: 300,
      recoveryPolicy: RecoveryPolicy.RESTART,
      // Long enough for a Worker to start on a loaded machine (the good reload after it shares
      // it), short enough that the case that never starts does not hold the test up for long.
      reloadTimeout: reason === "timeout" ? 2_000 : 30_000,
      log: false,
    });
    const seen = events(supervisor);
    await running(supervisor, 1);
    const head = what === "exits before start()" ? `import process from "node:process";\n` : "";
    app.write(head + program("v2", before));
    const result = await supervisor.reload();
    assert.deepEqual(
      result,
      code === undefined
        ? { reloaded: false, id: 2, reason }
        : { reloaded: false, id: 2, reason, code },
    );
    assert.equal(supervisor.status.instanceId, 1);
    assert.equal(supervisor.status.state, "running");
    assert.match(text(supervisor.data()), /^v1 1 saw/);
    // Not retried: the next reload, to good files, is instance 3.
    app.write(program("v3"));
    assert.deepEqual(await supervisor.reload(), { reloaded: true, id: 3, replaced: 1 });
    assert.deepEqual(seen.filter((e) => e.startsWith("instance")), [
      "instance 1",
      "instance 2",
      "instance 3",
    ]);
    const failed = `reload 2 failed ${reason}${code === undefined ? "" : ` ${code}`}`;
    assert.ok(seen.includes(failed), seen.join(", "));
    assert.ok(!seen.some((e) => e.startsWith("restart")), seen.join(", "));
  });
}

test("Supervisor.reload() refuses a second reload under way and one after stop(), changing nothing", async () => {
  using app = fixture(program("v1", "", ""));
  const supervisor = supervise(pathToFileURL(app.path), {
    timeInterval: 300,
    recoveryPolicy: RecoveryPolicy.RESTART,
  });
  await running(supervisor, 1);
  app.write(program("v2", "await new Promise((r) => setTimeout(r, 300));"));
  const first = supervisor.reload();
  assert.deepEqual(await supervisor.reload(), {
    reloaded: false,
    id: null,
    reason: "in-progress",
  });
  assert.deepEqual(await first, { reloaded: true, id: 2, replaced: 1 });
  await supervisor.stop();
  assert.deepEqual(await supervisor.reload(), {
    reloaded: false,
    id: null,
    reason: "not-running",
  });
});

test("a reload's instance reads the serving instance's stores before its start() and gets CS_ERR_TRY_AGAIN for its own", async () => {
  using app = fixture(program("v1"));
  await using supervisor = supervise(pathToFileURL(app.path), {
    timeInterval: 300,
    recoveryPolicy: RecoveryPolicy.RESTART,
  });
  await running(supervisor, 1);
  app.write(
    program(
      "v2",
      `let code = 0; try { store("too early"); } catch (e) { code = e.code; }
if (code !== ${CsError.CS_ERR_TRY_AGAIN} || !seenBefore.startsWith("v1 1")) process.exit(9);`,
    ).replace("import * as sam", `import process from "node:process";\nimport * as sam`),
  );
  const reloaded = registered(supervisor, 2);
  assert.deepEqual(await supervisor.reload(), { reloaded: true, id: 2, replaced: 1 });
  await reloaded;
});

test("supervise() rejects a bad reloadSignal or reloadTimeout with CS_ERR_INVALID_PARAM", () => {
  const app = new URL("./testdata/crash_app.ts", import.meta.url);
  const base = { timeInterval: 100, recoveryPolicy: RecoveryPolicy.RESTART };
  for (const reloadSignal of ["SIGFOO", "SIGKILL", "SIGSTOP", "SIGTERM", 1, ""]) {
    assert.throws(() => supervise(app, { ...base, reloadSignal: reloadSignal as string }), {
      code: CsError.CS_ERR_INVALID_PARAM,
    });
  }
  for (const reloadTimeout of [-1, NaN, 1.5, 2 ** 31]) {
    assert.throws(() => supervise(app, { ...base, reloadTimeout }), {
      code: CsError.CS_ERR_INVALID_PARAM,
    });
  }
});
