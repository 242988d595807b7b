// sam as a systemd service (Type=notify, NotifyAccess=main), against a real systemd 252 run as
// PID 1 of namespaces the test makes and removes (tests/harness/systemd.ts): ready, reloading then
// ready, status, the watchdog and stopping, read message by message from systemd's own log.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtimeName, scriptArgs } from "./harness/runtime.ts";
import { bootSystemd, type Systemd, systemdUnavailable } from "./harness/systemd.ts";
import { fixture } from "./harness/helpers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const UNIT = "sam-svc.service";

/** The command lines to try per runtime, with the notify channel each one uses. */
function variants(): { channel: string; argv: string[] }[] {
  const app = fixture("systemd_app.ts");
  const exec = process.execPath;
  if (runtimeName === "deno") {
    return [
      { channel: "libc", argv: [exec, ...scriptArgs(app)] },
      {
        channel: "deno-datagram",
        argv: [
          exec,
          "run",
          "--allow-read",
          "--allow-write",
          "--allow-net",
          "--allow-env",
          "--unstable-net",
          app,
        ],
      },
    ];
  }
  if (runtimeName === "bun") {
    return [{ channel: "libc", argv: [exec, ...scriptArgs(app)] }];
  }
  return [{ channel: "systemd-notify", argv: [exec, ...scriptArgs(app)] }];
}

function unit(argv: string[], dir: string, env = ""): string {
  const quoted = argv.map((a) => `"${a}"`).join(" ");
  return `[Unit]
Description=sam under systemd
[Service]
Type=notify
NotifyAccess=main
ExecStart=${quoted}
ExecReload=/bin/sh -c "kill -HUP $MAINPID && sleep 1"
WatchdogSec=2
TimeoutStartSec=20
Restart=on-failure
SuccessExitStatus=143
KillMode=mixed
FileDescriptorStoreMax=4
WorkingDirectory=${ROOT}
Environment=HOME=${process.env.HOME ?? "/root"} NO_COLOR=1 ${env}
StandardOutput=append:${dir}/out.log
StandardError=append:${dir}/out.log
`;
}

/** The notify messages systemd got from `pid`, in order, each as "A=1, B=2". */
function notifications(sd: Systemd, pid: string): string[] {
  const prefix = `${UNIT}: Got notification message from PID ${pid} (`;
  return sd.log().split(/\r?\n/).flatMap((line) => {
    const at = line.indexOf(prefix);
    return at < 0 ? [] : [line.slice(at + prefix.length, line.lastIndexOf(")"))];
  });
}

const why = systemdUnavailable();

for (const { channel, argv } of variants()) {
  test(`under a real systemd, sam (${channel}) reports ready, reloading then ready, its status and stopping, and feeds the watchdog`, async (t) => {
    if (why !== null) return t.skip(`a real systemd cannot run here: ${why}`);
    const dir = mkdtempSync(join(tmpdir(), "sam-unit-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    await using sd = await bootSystemd({ [UNIT]: unit(argv, dir) });
    const started = sd.systemctl("start", UNIT);
    const output = () => readFileSync(join(dir, "out.log"), "utf8");
    assert.equal(started.code, 0, started.stderr + output());
    const first = sd.show(UNIT, ["ActiveState", "StatusText", "MainPID"]);
    assert.equal(first.ActiveState, "active");
    assert.equal(first.StatusText, "instance 1 running");
    const reloaded = sd.systemctl("reload", UNIT);
    assert.equal(reloaded.code, 0, reloaded.stderr);
    // systemctl reload returned once sam's READY=1 followed its RELOADING=1.
    assert.equal(sd.show(UNIT, ["StatusText"]).StatusText, "instance 2 running (reloaded)");
    // Past WatchdogSec, still the same process: the watchdog was fed.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const fed = sd.show(UNIT, ["ActiveState", "NRestarts", "MainPID"]);
    assert.deepEqual([fed.ActiveState, fed.NRestarts, fed.MainPID], ["active", "0", first.MainPID]);
    const stopped = sd.systemctl("stop", UNIT);
    assert.equal(stopped.code, 0, stopped.stderr);
    const end = sd.show(UNIT, ["ActiveState", "Result"]);
    assert.deepEqual([end.ActiveState, end.Result], ["inactive", "success"]);
    const messages = notifications(sd, first.MainPID);
    const watchdog = messages.filter((m) => m === "WATCHDOG=1").length;
    assert.ok(watchdog >= 2, messages.join("\n"));
    assert.deepEqual(
      messages.filter((m) => m !== "WATCHDOG=1").map((m) =>
        m.replace(/MONOTONIC_USEC=\d+/, "MONOTONIC_USEC=N")
      ),
      [
        // The stored data's memfd, where a descriptor can be passed.
        ...(channel === "libc" ? ["FDSTORE=1, FDNAME=sam-data"] : []),
        "STATUS=instance 1 stopped",
        "READY=1, STATUS=instance 1 running",
        "RELOADING=1, MONOTONIC_USEC=N, STATUS=reloading: instance 2 starts beside instance 1",
        "READY=1, STATUS=instance 2 running (reloaded)",
        "STOPPING=1, STATUS=stopping (SIGTERM)",
        "STATUS=ended (stopped), code 0",
      ],
      sd.log().split(/\r?\n/).filter((l) => /notif|sam-svc/i.test(l)).slice(-40).join("\n"),
    );
  });
}

/** Resolves with the first line of `file` that `want` accepts, looked at every 50 ms. */
async function lineOf(
  file: string,
  want: (line: string) => boolean,
  what: string,
): Promise<string> {
  for (let i = 0; i < 400; i++) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      // Not written yet.
    }
    const found = text.split("\n").find(want);
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what}: not in ${file} after 20 s`);
}

const restoredBy = (pid: string) => (l: string) =>
  l.startsWith("instance 1 pid ") && !l.includes(`pid ${pid} `);

test("under a real systemd, the stored data outlives the process in systemd's fd store: instance 1 of the next process restores it after systemctl restart and after a SIGKILL", async (t) => {
  if (why !== null) return t.skip(`a real systemd cannot run here: ${why}`);
  const variant = variants().find((v) => v.channel === "libc");
  if (variant === undefined) return t.skip("Node cannot pass a descriptor (no FFI): no fd store");
  const dir = mkdtempSync(join(tmpdir(), "sam-unit-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, "out.log");
  await using sd = await bootSystemd({ [UNIT]: unit(variant.argv, dir) });
  assert.equal(sd.systemctl("start", UNIT).code, 0, readFileSync(log, "utf8"));
  const first = await lineOf(log, (l) => l.startsWith("instance 1 pid "), "instance 1");
  assert.match(first, /restored 0$/);
  const pid1 = first.split(" ")[3];
  // Some stores later (every 20 ms), a restart: a new process.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(sd.systemctl("restart", UNIT).code, 0);
  const second = await lineOf(log, restoredBy(pid1), "instance 1 of the next process");
  const restored = Number(second.split(" ").at(-1));
  assert.ok(restored > 0, second);
  const left = Number(
    (await lineOf(log, (l) => l.startsWith("instance 1 left at"), "the end")).split(" ").at(-1),
  );
  assert.equal(restored, left, "the last store, made at its warning, is what came back");
  // Killed outright: Restart=on-failure starts the next process, which restores a whole value.
  const pid2 = second.split(" ")[3];
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(sd.systemctl("kill", "-s", "KILL", UNIT).code, 0);
  const third = await lineOf(
    log,
    (l) => restoredBy(pid1)(l) && restoredBy(pid2)(l),
    "after the kill",
  );
  assert.ok(Number(third.split(" ").at(-1)) >= restored, third);
  assert.equal(sd.show(UNIT, ["NRestarts"]).NRestarts, "1");
});

test("under a real systemd, a supervisor that hangs stops feeding the watchdog: systemd kills it and starts the service again, whose instance 1 restores the stored data", async (t) => {
  if (why !== null) return t.skip(`a real systemd cannot run here: ${why}`);
  const dir = mkdtempSync(join(tmpdir(), "sam-unit-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, "out.log");
  const variant = variants()[0];
  const env = `SAM_HANG_ONCE=${join(dir, "hung")}`;
  await using sd = await bootSystemd({ [UNIT]: unit(variant.argv, dir, env) });
  assert.equal(sd.systemctl("start", UNIT).code, 0, readFileSync(log, "utf8"));
  const first = await lineOf(log, (l) => l.startsWith("instance 1 pid "), "instance 1");
  const pid1 = first.split(" ")[3];
  const second = await lineOf(log, restoredBy(pid1), "the process after the watchdog");
  assert.match(sd.log(), /sam-svc\.service: Watchdog timeout/);
  assert.equal(sd.show(UNIT, ["NRestarts"]).NRestarts, "1");
  if (variant.channel === "libc") {
    // The count went on where the hung process had copied it to systemd's fd store.
    assert.ok(Number(second.split(" ").at(-1)) > 0, second);
  }
});
