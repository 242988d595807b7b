// A real systemd (Debian 12's 252 at /lib/systemd/systemd) as PID 1 of namespaces a test makes
// and removes, as /work/shared/SYSTEMD.md describes: a cgroup of its own, unshare of the pid,
// mount, uts, ipc, net and cgroup namespaces, a pty (from script(1)) over /dev/console for its
// log, and only the test's units. Driven with nsenter + systemctl.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

const SYSTEMD = "/lib/systemd/systemd";
const CGROUP_ROOT = "/sys/fs/cgroup/unified";
const STUBS = [
  "basic",
  "sysinit",
  "sockets",
  "timers",
  "paths",
  "slices",
  "local-fs",
  "remote-fs",
  "network",
  "multi-user",
  "default",
  "shutdown",
];

/** A systemd running for a test. */
export interface Systemd {
  /** Its PID 1, as this process sees it. */
  readonly pid: number;
  /** A folder for the test's files (removed with it). */
  readonly dir: string;
  /** Runs systemctl inside; never throws. */
  systemctl(...args: string[]): { code: number; stdout: string; stderr: string };
  /** `systemctl show -p <names>` as an object. */
  show(unit: string, names: string[]): Record<string, string>;
  /** What systemd logged to its console so far. */
  log(): string;
  /** Ends it and removes everything it was given. */
  [Symbol.asyncDispose](): Promise<void>;
}

let count = 0;

/** Why a systemd cannot be booted here, or null. */
export function systemdUnavailable(): string | null {
  if (process.platform !== "linux") return "Linux only";
  if (process.getuid?.() !== 0) return "needs root";
  if (!existsSync(SYSTEMD)) return `no ${SYSTEMD}`;
  if (!existsSync(`${CGROUP_ROOT}/cgroup.procs`)) return `no cgroup2 at ${CGROUP_ROOT}`;
  for (const tool of ["unshare", "nsenter", "script"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    } catch {
      return `no ${tool}`;
    }
  }
  return null;
}

function until<T>(what: string, ms: number, look: () => T | null): Promise<T> {
  const end = performance.now() + ms;
  return new Promise((resolve, reject) => {
    const again = () => {
      let value: T | null = null;
      try {
        value = look();
      } catch {
        value = null;
      }
      if (value !== null) return resolve(value);
      if (performance.now() > end) return reject(new Error(`${what}: nothing after ${ms} ms`));
      setTimeout(again, 50);
    };
    again();
  });
}

/** The host pid of the process whose command line holds `marker`. */
function findPid(marker: string): number | null {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.startsWith(SYSTEMD) && cmdline.includes(marker)) return Number(entry);
    } catch {
      // Gone meanwhile.
    }
  }
  return null;
}

/** Removes a cgroup folder and those below it, depth first. */
function removeCgroup(path: string): void {
  if (!existsSync(path)) return;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.isDirectory()) removeCgroup(join(path, entry.name));
  }
  try {
    rmdirSync(path);
  } catch {
    // Processes still leaving: tried again by the caller's retry.
  }
}

/** Boots a systemd with `units` (file name -> contents) and waits until it runs. */
export async function bootSystemd(units: Record<string, string>): Promise<Systemd> {
  const name = `sam-test-${process.pid}-${++count}`;
  const dir = mkdtempSync(join(tmpdir(), "sam-systemd-"));
  const unitDir = join(dir, "units");
  const empty = join(dir, "empty");
  mkdirSync(unitDir);
  mkdirSync(empty);
  for (const stub of [...STUBS, name]) {
    writeFileSync(join(unitDir, `${stub}.target`), "[Unit]\nDescription=stub\n");
  }
  for (const [file, text] of Object.entries(units)) writeFileSync(join(unitDir, file), text);
  const inner = join(dir, "inner.sh");
  writeFileSync(
    inner,
    `umount -R /sys/fs/cgroup 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup || exit 1
mount -t tmpfs -o mode=755 tmpfs /run || exit 1
mount --bind "$(tty)" /dev/console || exit 1
exec env -i container=${name} PATH=/usr/sbin:/usr/bin:/sbin:/bin SYSTEMD_UNIT_PATH=${unitDir} \\
  SYSTEMD_GENERATOR_PATH=${empty} SYSTEMD_ENVIRONMENT_GENERATOR_PATH=${empty} \\
  ${SYSTEMD} --system --unit=${name}.target --log-target=console --show-status=no --log-level=debug
`,
  );
  const cgroup = join(CGROUP_ROOT, name);
  mkdirSync(cgroup);
  const consoleLog = join(dir, "console.log");
  const unshare =
    `unshare --kill-child --pid --fork --mount-proc --uts --ipc --net --cgroup --propagation private sh ${inner}`;
  // The shell moves itself into the cgroup, which becomes the root of the new namespace.
  const child: ChildProcess = spawn("sh", [
    "-c",
    `echo $$ > ${cgroup}/cgroup.procs && exec script -qfec "${unshare}" ${consoleLog}`,
  ], { stdio: ["pipe", "ignore", "ignore"] });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  let pid = 0;
  const enter = (args: string[]) => ["-t", String(pid), "-m", "-p", "-n", "-u", "-i", ...args];
  const systemctl = (...args: string[]) => {
    try {
      const stdout = execFileSync("nsenter", enter(["systemctl", ...args]), {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 60_000,
      });
      return { code: 0, stdout, stderr: "" };
    } catch (error) {
      const e = error as { status?: number; stdout?: string; stderr?: string };
      return { code: e.status ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    }
  };
  const dispose = async () => {
    if (pid > 0) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
    child.kill("SIGKILL");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    for (let i = 0; i < 50 && existsSync(cgroup); i++) {
      removeCgroup(cgroup);
      if (existsSync(cgroup)) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    pid = await until("systemd's PID 1", 10_000, () => findPid(`--unit=${name}.target`));
    await until("systemctl is-system-running", 30_000, () => {
      const state = systemctl("is-system-running").stdout.trim();
      return state === "running" || state === "degraded" ? state : null;
    });
  } catch (error) {
    await dispose();
    throw error;
  }
  return {
    pid,
    dir,
    systemctl,
    show(unit, names) {
      const out = systemctl("show", "-p", names.join(","), unit).stdout;
      const fields: Record<string, string> = {};
      for (const line of out.split("\n")) {
        const at = line.indexOf("=");
        if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1);
      }
      return fields;
    },
    log: () => existsSync(consoleLog) ? readFileSync(consoleLog, "utf8") : "",
    [Symbol.asyncDispose]: dispose,
  };
}
