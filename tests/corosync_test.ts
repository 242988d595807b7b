// corosync's own services through corosync/, against a real corosync of the test's own
// (tests/harness/corosync.ts), and libsam's own record as the ground truth to compare sam with.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readClockMonotonic } from "../platform/clock.ts";
import { CsError } from "../errors.ts";
import { command } from "./harness/helpers.ts";
import {
  buildLibsamSteps,
  corosyncUnavailable,
  libsamUnavailable,
  normalizeRecord,
  startCluster,
  startCorosync,
} from "./harness/corosync.ts";

const skip = corosyncUnavailable() ?? false;
const skipLibsam = libsamUnavailable() ?? false;
const skipCc = spawnSync("sh", ["-c", "command -v cc"]).status === 0 ? false : "no C compiler";
const TIMEOUT = { timeout: 60_000 };

test("cmap: what is written is read back, shown by corosync-cmapctl with its type, and deleted", {
  skip,
  ...TIMEOUT,
}, async () => {
  await using cluster = await startCorosync();
  const app = cluster.run(command("corosync_cmap.ts"));
  const [, pid, stamp] = (await app.waitForLine("written ")).split(" ");
  const prefix = `resources.process.${pid}.`;
  assert.deepEqual(cluster.cmapctl(["-b", prefix]).trim().split("\n"), [
    `${prefix}last_updated (u64) = ${stamp}`,
    `${prefix}poll_period (u64) = 2000`,
    `${prefix}recovery (str) = quit`,
    `${prefix}state (str) = running`,
  ]);
  app.send("next");
  await app.waitForLine("deletePrefix ");
  assert.deepEqual(JSON.parse((await app.waitForLine("read ")).slice(5)), {
    recovery: "quit",
    poll_period: "2000",
    last_updated_same: true,
    state: "running",
    missing: null,
    keys: ["last_updated", "poll_period", "recovery", "state"].map((k) => prefix + k),
  });
  assert.equal(
    await app.waitForLine("delete again "),
    `delete again ${CsError.CS_ERR_NOT_EXIST} CS_ERR_NOT_EXIST: cmap_delete returned ` +
      `CS_ERR_NOT_EXIST for ${prefix}recovery`,
  );
  assert.equal(
    await app.waitForLine("getString"),
    `getString of a u64 ${CsError.CS_ERR_INVALID_PARAM}`,
  );
  assert.equal(await app.waitForLine("deletePrefix "), "deletePrefix 3 left 0");
  // corosync-cmapctl -b exits non-zero when no key has the prefix.
  const dump = spawnSync("ip", ["netns", "exec", cluster.ns, "corosync-cmapctl", "-b", prefix], {
    encoding: "utf8",
  });
  assert.equal(dump.stdout.trim(), "");
  app.send("next");
  assert.equal(await app.waitForLine("after close "), `after close ${CsError.CS_ERR_BAD_HANDLE}`);
  assert.equal(await app.exited, 0, app.stderr());
});

test("readClockMonotonic() reads CLOCK_MONOTONIC, as a C program does, not epoch time", {
  skip: "Deno" in globalThis || "Bun" in globalThis
    ? skipCc
    : "readClockMonotonic() needs FFI, which Node does not have",
}, () => {
  const dir = mkdtempSync(join(tmpdir(), "sam-clock-"));
  try {
    writeFileSync(
      join(dir, "clock.c"),
      `#include <stdio.h>\n#include <time.h>\nint main(void) { struct timespec t;\n` +
        `clock_gettime(CLOCK_MONOTONIC, &t);\n` +
        `printf("%lld\\n", (long long)t.tv_sec * 1000000000LL + t.tv_nsec); return 0; }\n`,
    );
    execFileSync("cc", ["-o", join(dir, "clock"), join(dir, "clock.c")]);
    const before = readClockMonotonic();
    const c = BigInt(execFileSync(join(dir, "clock"), { encoding: "utf8" }).trim());
    const after = readClockMonotonic();
    assert.ok(before <= c && c <= after, `${before} <= ${c} <= ${after}`);
    assert.ok(after < 10n ** 17n, `${after} looks like epoch time`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("CorosyncQuorum: quorate, a change event when expected_votes makes it inquorate, and back", {
  skip,
  ...TIMEOUT,
}, async () => {
  await using cluster = await startCorosync();
  const app = cluster.run(command("corosync_quorum.ts"));
  assert.match(await app.waitForLine("open "), /^open true (poll|worker)$/);
  for (const [votes, quorate] of [[2, false], [1, true], [2, false], [1, true]] as const) {
    const next = app.nextLine(5_000);
    // Set with corosync-cmapctl, as an operator would; the fixture's own set is timed below.
    cluster.cmapctl(["-s", "quorum.expected_votes", "u32", String(votes)]);
    const line = await next;
    assert.match(line, new RegExp(`^change ${quorate} `));
  }
  // Through libcmap in the fixture, timed there from the set to the event.
  for (const [votes, quorate] of [[2, false], [1, true]] as const) {
    const next = app.nextLine(5_000);
    app.send(`votes ${votes}`);
    const line = await next;
    const [, value, ms] = line.split(" ");
    assert.equal(value, String(quorate));
    assert.ok(Number(ms) >= 0 && Number(ms) < 200, `change seen after ${ms} ms`);
  }
  app.send("close");
  assert.equal(await app.waitForLine("closed"), "closed");
  // It ends by itself after close(): nothing is left that keeps it alive.
  assert.equal(await app.exited, 0, app.stderr());
});

test("a CorosyncQuorum that is never closed does not keep a finished program alive", {
  skip,
  ...TIMEOUT,
}, async () => {
  await using cluster = await startCorosync();
  const app = cluster.run(command("corosync_idle.ts"), {}, 15_000);
  assert.equal(await app.exited, 0, `killed at its deadline? ${app.stderr()}`);
  assert.match(app.lines[0], /^open true (poll|worker)$/);
});

test("without corosync, cmap and quorum throw CS_ERR_LIBRARY; after a restart they connect", {
  skip,
  ...TIMEOUT,
}, async () => {
  await using cluster = await startCorosync();
  await cluster.stop();
  const down = cluster.run(command("corosync_connect.ts"));
  assert.equal(await down.exited, 0, down.stderr());
  assert.match(down.lines[0], new RegExp(`^cmap ${CsError.CS_ERR_LIBRARY} CS_ERR_LIBRARY: `));
  assert.match(down.lines[1], new RegExp(`^quorum ${CsError.CS_ERR_LIBRARY} CS_ERR_LIBRARY: `));
  await cluster.restart();
  const up = cluster.run(command("corosync_connect.ts"));
  assert.equal(await up.exited, 0, up.stderr());
  assert.deepEqual(up.lines.slice(0, 2), ["cmap ok", "quorum ok"]);
});

test("when corosync goes away the connections say so, and cmap reconnects once it is back", {
  skip,
  ...TIMEOUT,
}, async () => {
  await using cluster = await startCorosync();
  const app = cluster.run(command("corosync_reconnect.ts"));
  assert.equal(await app.waitForLine("write "), "write ok connected=true");
  await cluster.stop();
  assert.equal(
    await app.waitForLine("disconnect "),
    `disconnect quorate=false code=${CsError.CS_ERR_LIBRARY}`,
  );
  const next = app.nextLine();
  app.send("write");
  assert.match(
    await next,
    new RegExp(`^write ${CsError.CS_ERR_LIBRARY} connected=false CS_ERR_LIBRARY: cmap_set_string`),
  );
  await cluster.restart();
  app.send("reconnect");
  assert.equal(await app.waitForLine("reconnect "), "reconnect ok connected=true");
  // cmap came back empty: only what was written again is there.
  assert.match(cluster.cmapctl(["-b", "resources.process"]), /\.state \(str\) = running\n$/);
  app.send("close");
  assert.equal(await app.exited, 0, app.stderr());
});

test("three nodes: the node that is cut off goes inquorate, the two others keep quorum", {
  skip,
  timeout: 90_000,
}, async () => {
  await using cluster = await startCluster();
  const apps = cluster.nodes.map((node) => node.run(command("corosync_quorum.ts")));
  for (const app of apps) assert.match(await app.waitForLine("open "), /^open true /);
  cluster.cut(0);
  assert.match(await apps[0].waitForLine("change ", 30_000), /^change false /);
  cluster.heal(0);
  assert.match(await apps[0].waitForLine("change true", 30_000), /^change true /);
  for (const app of apps) app.send("close");
  for (const app of apps) assert.equal(await app.exited, 0, app.stderr());
  // The two that kept their link never saw quorum go.
  for (const app of apps.slice(1)) assert.deepEqual(app.lines.slice(1), ["closed"]);
});

/** Runs libsam_steps with `policy` and `steps`, dumping its record before each step. */
async function libsamSteps(policy: string, steps: string[]): Promise<string[][]> {
  const dir = mkdtempSync(join(tmpdir(), "sam-libsam-"));
  try {
    const binary = buildLibsamSteps(dir);
    await using cluster = await startCorosync();
    const app = cluster.run([binary, policy, "10000", ...steps]);
    const pid = (await app.waitForLine("initialize ")).split(" ")[2];
    assert.equal(await app.waitForLine("initialize "), `initialize ${CsError.CS_OK} ${pid}`);
    const dump = () => {
      const r = spawnSync("ip", [
        "netns",
        "exec",
        cluster.ns,
        "corosync-cmapctl",
        "-b",
        `resources.process.${pid}.`,
      ], { encoding: "utf8" });
      return normalizeRecord(r.stdout);
    };
    const dumps = [dump()];
    for (const step of steps) {
      app.send("next");
      if (step === "markfailed" || step === "exit") await app.exited;
      else assert.match(await app.waitForLine(`${step} `), new RegExp(`^${step} 1 ${pid}`));
      dumps.push(dump());
    }
    await app.exited;
    return dumps;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const P = "resources.process.PID.";

test("ground truth: libsam's record at each step, QUIT|CMAP, ending while stopped", {
  skip: skipLibsam,
  ...TIMEOUT,
}, async () => {
  const dumps = await libsamSteps("quit", ["register", "start", "hc", "stop", "exit"]);
  const stopped = [`${P}poll_period (u64) = 10000`, `${P}recovery (str) = quit`];
  assert.deepEqual(dumps, [
    [],
    [...stopped, `${P}state (str) = stopped`],
    [`${P}last_updated (u64) = T`, ...stopped, `${P}state (str) = running`],
    [`${P}last_updated (u64) = T`, ...stopped, `${P}state (str) = running`],
    [`${P}last_updated (u64) = T`, ...stopped, `${P}state (str) = stopped`],
    [],
  ]);
});

test(
  "ground truth: libsam's record, RESTART|CMAP, mark_failed leaves it failed, recovery still restart",
  {
    skip: skipLibsam,
    ...TIMEOUT,
  },
  async () => {
    const dumps = await libsamSteps("restart", ["register", "start", "markfailed"]);
    assert.deepEqual(dumps.at(-1), [
      `${P}last_updated (u64) = T`,
      `${P}poll_period (u64) = 10000`,
      // libsam switches its own policy to quit but leaves cmap's recovery as it was.
      `${P}recovery (str) = restart`,
      `${P}state (str) = failed`,
    ]);
    assert.deepEqual(dumps[1], [
      `${P}poll_period (u64) = 10000`,
      `${P}recovery (str) = restart`,
      `${P}state (str) = stopped`,
    ]);
  },
);

test("ground truth: libsam's last_updated is CLOCK_MONOTONIC, as readClockMonotonic()", {
  skip: skipLibsam,
  ...TIMEOUT,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "sam-libsam-"));
  try {
    const binary = buildLibsamSteps(dir);
    await using cluster = await startCorosync();
    const app = cluster.run([binary, "quit", "10000", "register", "start", "stop"]);
    const pid = (await app.waitForLine("initialize ")).split(" ")[2];
    app.send("next");
    await app.waitForLine("register ");
    const before = readClockMonotonic();
    app.send("next");
    await app.waitForLine("start ");
    const after = readClockMonotonic();
    const line = cluster.cmapctl(["-g", `resources.process.${pid}.last_updated`]).trim();
    const stamp = BigInt(line.split(" = ")[1]);
    assert.ok(before <= stamp && stamp <= after, `${before} <= ${stamp} <= ${after}`);
    app.send("next");
    assert.equal(await app.exited, 0, app.stderr());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
