// A corosync of the tests' own: one node (or three) in network namespaces of their own, so
// that its IPC sockets (abstract, per network namespace) and its /run lock never meet a
// corosync of the machine or of another test. Programs under test run in the same namespace.
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fixture } from "./helpers.ts";

/** A program started inside a cluster's namespace. */
export interface NsProcess {
  /** The child process (its pid is the program's: `ip netns exec` execs it in place). */
  readonly child: ChildProcess;
  /** Output lines seen so far. */
  readonly lines: string[];
  /** Stdout so far. */
  readonly stdout: () => string;
  /** Stderr so far. */
  readonly stderr: () => string;
  /**
   * Resolves with the first line (seen before or later) that `match` accepts.
   * @param match A prefix or a predicate.
   * @param timeoutMs Rejects after this long, naming what was seen.
   */
  waitForLine(match: string | ((line: string) => boolean), timeoutMs?: number): Promise<string>;
  /**
   * Resolves with the first line printed after the ones seen so far.
   * @param timeoutMs Rejects after this long, naming what was seen.
   */
  nextLine(timeoutMs?: number): Promise<string>;
  /** Writes `text` and a newline to its stdin. */
  send(text: string): void;
  /** Resolves when it ended and its output closed: its exit code (128 + signal if killed). */
  readonly exited: Promise<number>;
}

/** One corosync node started by {@linkcode startCorosync} or {@linkcode startCluster}. */
export interface Node {
  /** Name of its network namespace, such as `sam-1a2b3c-1`. */
  readonly ns: string;
  /** Its node id in corosync's nodelist. */
  readonly nodeid: number;
  /**
   * Runs `argv` inside the node's namespace, with `env` added to this process's environment.
   * @param argv The program and its arguments, such as `command("corosync_quorum.ts")`.
   * @param env Extra environment variables.
   * @param timeoutMs Killed (SIGKILL) after this long.
   */
  run(argv: readonly string[], env?: Record<string, string>, timeoutMs?: number): NsProcess;
  /**
   * Runs `corosync-cmapctl` with `args` in the namespace and returns its stdout.
   * @throws {Error} when it exits with a non-zero code.
   */
  cmapctl(args: readonly string[]): string;
  /** corosync's stderr so far. */
  log(): string;
  /** Stops corosync (SIGTERM, SIGKILL after 10 s) and waits for it to end. */
  stop(): Promise<void>;
  /** Starts corosync again in the same namespace and waits until cmap answers. */
  restart(): Promise<void>;
}

/** A one-node cluster: the node itself, disposable. */
export interface Cluster extends Node, AsyncDisposable {}

/** Three nodes joined by a bridge, disposable. */
export interface ThreeNodeCluster extends AsyncDisposable {
  /** The nodes, nodeid 1 to 3. */
  readonly nodes: readonly Node[];
  /** Takes node `i`'s (0-based) link down: it loses the two others. */
  cut(i: number): void;
  /** Brings node `i`'s link up again. */
  heal(i: number): void;
}

function _which(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

/**
 * Why corosync tests cannot run here, or null when they can.
 *
 * @returns A one-line reason (not root, a missing binary), or null.
 */
export function corosyncUnavailable(): string | null {
  if (process.platform !== "linux") return "corosync tests need Linux";
  if (!("Deno" in globalThis) && !("Bun" in globalThis)) {
    return "corosync is reached through FFI, which Node does not have";
  }
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    return "corosync tests need root (network namespaces)";
  }
  for (const bin of ["corosync", "corosync-cmapctl", "ip", "unshare", "mount"]) {
    if (!_which(bin)) return `corosync tests need ${bin} on PATH`;
  }
  return null;
}

/**
 * Compiles the libsam ground-truth program (tests/testdata/libsam_steps.c) into `dir`.
 *
 * @returns The path of the binary.
 */
export function buildLibsamSteps(dir: string): string {
  const binary = join(dir, "libsam_steps");
  execFileSync("cc", ["-o", binary, fixture("libsam_steps.c"), "-lsam"]);
  return binary;
}

/**
 * Why the libsam ground-truth program cannot be built and run here, or null when it can.
 *
 * @returns A one-line reason, or null.
 */
export function libsamUnavailable(): string | null {
  const reason = corosyncUnavailable();
  if (reason) return reason;
  if (!_which("cc")) return "the libsam ground truth needs a C compiler (cc)";
  const probe = spawnSync("sh", ["-c", "test -e /usr/include/corosync/sam.h"]);
  return probe.status === 0 ? null : "the libsam ground truth needs libsam-dev (corosync/sam.h)";
}

function _config(name: string, stateDir: string, nodes: readonly string[], token?: number) {
  const nodeList = nodes.map((addr, i) =>
    `  node {\n    name: node${i + 1}\n    nodeid: ${i + 1}\n    ring0_addr: ${addr}\n  }\n`
  ).join("");
  return `totem {\n  version: 2\n  cluster_name: ${name}\n  transport: knet\n` +
    `  crypto_cipher: none\n  crypto_hash: none\n${token ? `  token: ${token}\n` : ""}}\n` +
    `logging {\n  to_stderr: yes\n  to_logfile: no\n  to_syslog: no\n}\n` +
    `quorum {\n  provider: corosync_votequorum\n}\n` +
    `system {\n  state_dir: ${stateDir}\n}\n` +
    `nodelist {\n${nodeList}}\n`;
}

function _ip(args: readonly string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

const _delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function _runIn(
  ns: string,
  argv: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): NsProcess {
  const child = spawn("ip", ["netns", "exec", ns, ...argv], {
    env: { ...process.env, ...env, NO_COLOR: "1" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const lines: string[] = [];
  const waiters: {
    match: (line: string, index: number) => boolean;
    resolve: (line: string) => void;
  }[] = [];
  child.stdout!.on("data", (d) => {
    const before = stdout.split("\n").length - 1;
    stdout += d;
    for (const line of stdout.split("\n").slice(before, -1)) {
      lines.push(line);
      for (const w of waiters.splice(0)) {
        if (w.match(line, lines.length - 1)) w.resolve(line);
        else waiters.push(w);
      }
    }
  });
  child.stderr!.on("data", (d) => stderr += d);
  child.stdin!.on("error", () => {});
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const exited = new Promise<number>((resolve) => {
    let code = -1;
    child.on("exit", (c, signal) => code = c ?? (signal === "SIGKILL" ? 137 : 128));
    child.on("close", () => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  let ended = false;
  exited.then(() => ended = true);
  return {
    child,
    lines,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    send(text: string) {
      child.stdin!.write(text + "\n");
    },
    waitForLine(match, waitMs = 20_000) {
      const accept = typeof match === "string" ? (l: string) => l.startsWith(match) : match;
      const seen = lines.find((l) => accept(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return wait(accept, String(match), waitMs);
    },
    nextLine(waitMs = 20_000) {
      const from = lines.length;
      return wait((_, index) => index >= from, "after the ones seen", waitMs);
    },
  };

  function wait(
    accept: (line: string, index: number) => boolean,
    what: string,
    waitMs: number,
  ): Promise<string> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        reject(
          new Error(
            `no line ${what} within ${waitMs} ms${ended ? " (it ended)" : ""}; ` +
              `stdout ${JSON.stringify(stdout)} stderr ${JSON.stringify(stderr)}`,
          ),
        );
      }, waitMs);
      waiters.push({
        match: accept,
        resolve: (line) => {
          clearTimeout(t);
          resolve(line);
        },
      });
    });
  }
}

class _Node implements Node {
  readonly ns: string;
  readonly nodeid: number;
  #conf: string;
  #children = new Set<ChildProcess>();
  #corosync: ChildProcess | undefined;
  #ended: Promise<void> | undefined;
  #log = "";

  constructor(ns: string, nodeid: number, conf: string) {
    this.ns = ns;
    this.nodeid = nodeid;
    this.#conf = conf;
  }

  run(argv: readonly string[], env?: Record<string, string>, timeoutMs?: number): NsProcess {
    const p = _runIn(this.ns, argv, env, timeoutMs);
    this.#children.add(p.child);
    p.exited.then(() => this.#children.delete(p.child));
    return p;
  }

  cmapctl(args: readonly string[]): string {
    return execFileSync("ip", ["netns", "exec", this.ns, "corosync-cmapctl", ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  }

  log(): string {
    return this.#log;
  }

  start(): void {
    // A private /run: corosync takes /run/corosync.pid as a lock.
    const script = `mount -t tmpfs tmpfs /run && exec corosync -f -c '${this.#conf}'`;
    const child = spawn(
      "ip",
      ["netns", "exec", this.ns, "unshare", "--mount", "sh", "-c", script],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    child.stderr!.on("data", (d) => this.#log += d);
    this.#corosync = child;
    this.#ended = new Promise((resolve) => child.on("close", () => resolve()));
  }

  /** Waits until cmap answers in the namespace (a readiness check, retried briefly). */
  async ready(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let ended = false;
    this.#ended!.then(() => ended = true);
    for (;;) {
      const probe = spawnSync(
        "ip",
        ["netns", "exec", this.ns, "corosync-cmapctl", "-g", "totem.cluster_name"],
        { stdio: "ignore" },
      );
      if (probe.status === 0) return;
      if (ended) throw new Error(`corosync in ${this.ns} ended at start:\n${this.#log}`);
      if (Date.now() > deadline) {
        throw new Error(`corosync in ${this.ns} did not answer in ${timeoutMs} ms:\n${this.#log}`);
      }
      await _delay(20);
    }
  }

  async stop(): Promise<void> {
    const child = this.#corosync;
    if (!child) return;
    this.#corosync = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await this.#ended;
      clearTimeout(t);
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    this.start();
    await this.ready();
  }

  async killChildren(): Promise<void> {
    const waits = [...this.#children].map((c) =>
      new Promise<void>((resolve) => {
        if (c.exitCode !== null || c.signalCode !== null) return resolve();
        c.on("close", () => resolve());
        c.kill("SIGKILL");
      })
    );
    await Promise.all(waits);
  }
}

async function _dispose(nodes: _Node[], namespaces: string[], dir: string): Promise<void> {
  try {
    await Promise.all(nodes.map((n) => n.killChildren()));
    await Promise.all(nodes.map((n) => n.stop()));
  } finally {
    for (const ns of namespaces) {
      spawnSync("ip", ["netns", "delete", ns], { stdio: "ignore" });
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function _prefix(): string {
  return `sam-${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/**
 * Starts a one-node corosync in a network namespace of its own and waits until its cmap
 * answers.
 *
 * @returns The cluster; dispose of it (`await using`) to end corosync and every program
 *   started in it, and to delete the namespace and the temp dir.
 * @throws {Error} when corosync does not come up (its log in the message).
 */
export async function startCorosync(): Promise<Cluster> {
  const ns = _prefix();
  const dir = mkdtempSync(join(tmpdir(), "sam-corosync-"));
  const nodes: _Node[] = [];
  try {
    _ip(["netns", "add", ns]);
    _ip(["-n", ns, "link", "set", "lo", "up"]);
    const conf = join(dir, "corosync.conf");
    writeFileSync(conf, _config("samtest", dir, ["127.0.0.1"]));
    const node = new _Node(ns, 1, conf);
    nodes.push(node);
    node.start();
    await node.ready();
    return Object.assign(node, {
      [Symbol.asyncDispose]: () => _dispose(nodes, [ns], dir),
    }) as unknown as Cluster;
  } catch (error) {
    await _dispose(nodes, [ns], dir);
    throw error;
  }
}

/**
 * Starts three corosync nodes, each in a network namespace of its own, joined through veth
 * pairs to a bridge in a fourth namespace (addresses 10.213.0.1 to .3 exist only there,
 * no default route), with `token: 1000` so that a cut is noticed in a few seconds. Waits
 * until every node's cmap answers and the three are members of one ring.
 *
 * @returns The cluster; dispose of it to end everything.
 * @throws {Error} when a node does not come up or the ring does not form in 30 s.
 */
export async function startCluster(): Promise<ThreeNodeCluster> {
  const prefix = _prefix();
  const bridgeNs = `${prefix}-br`;
  const dir = mkdtempSync(join(tmpdir(), "sam-corosync-"));
  const names = [1, 2, 3].map((i) => `${prefix}-${i}`);
  const namespaces = [bridgeNs, ...names];
  const addrs = [1, 2, 3].map((i) => `10.213.0.${i}`);
  const nodes: _Node[] = [];
  try {
    _ip(["netns", "add", bridgeNs]);
    _ip(["-n", bridgeNs, "link", "add", "br0", "type", "bridge"]);
    _ip(["-n", bridgeNs, "link", "set", "br0", "up"]);
    for (const [i, ns] of names.entries()) {
      _ip(["netns", "add", ns]);
      _ip(["-n", ns, "link", "set", "lo", "up"]);
      // Both ends are created inside the bridge's namespace, then one is moved: no
      // interface ever appears in the machine's own namespace.
      _ip(["-n", bridgeNs, "link", "add", `p${i}`, "type", "veth", "peer", "name", "eth0"]);
      _ip(["-n", bridgeNs, "link", "set", "eth0", "netns", ns]);
      _ip(["-n", bridgeNs, "link", "set", `p${i}`, "master", "br0"]);
      _ip(["-n", bridgeNs, "link", "set", `p${i}`, "up"]);
      _ip(["-n", ns, "addr", "add", `${addrs[i]}/24`, "dev", "eth0"]);
      _ip(["-n", ns, "link", "set", "eth0", "up"]);
    }
    for (const [i, ns] of names.entries()) {
      const stateDir = join(dir, `node${i + 1}`);
      mkdirSync(stateDir);
      const conf = join(dir, `corosync${i + 1}.conf`);
      writeFileSync(conf, _config("samtest3", stateDir, addrs, 1000));
      const node = new _Node(ns, i + 1, conf);
      nodes.push(node);
      node.start();
    }
    await Promise.all(nodes.map((n) => n.ready()));
    const deadline = Date.now() + 30_000;
    for (const node of nodes) {
      for (;;) {
        const members = spawnSync("ip", [
          "netns",
          "exec",
          node.ns,
          "corosync-cmapctl",
          "-g",
          "runtime.votequorum.this_node_id",
        ]);
        const quorum = spawnSync("ip", ["netns", "exec", node.ns, "corosync-quorumtool", "-s"], {
          encoding: "utf8",
        });
        if (members.status === 0 && /Total votes:\s+3/.test(quorum.stdout ?? "")) break;
        if (Date.now() > deadline) throw new Error(`the ring did not form:\n${node.log()}`);
        await _delay(100);
      }
    }
    return {
      nodes,
      cut: (i) => _ip(["-n", names[i], "link", "set", "eth0", "down"]),
      heal: (i) => _ip(["-n", names[i], "link", "set", "eth0", "up"]),
      [Symbol.asyncDispose]: () => _dispose(nodes, namespaces, dir),
    };
  } catch (error) {
    await _dispose(nodes, namespaces, dir);
    throw error;
  }
}

/**
 * A `corosync-cmapctl -b resources.process` dump with what differs from run to run
 * replaced: the pid in the key (`resources.process.PID.`) and the value of `last_updated`
 * (`T`), so that a sam process's record can be compared with libsam's line for line.
 *
 * @param dump The dump.
 * @returns The normalized lines, in cmap's order, without empty lines.
 */
export function normalizeRecord(dump: string): string[] {
  return dump.split("\n").filter((line) => line.trim() !== "").map((line) =>
    line.replace(/^resources\.process\.[^.]+\./, "resources.process.PID.")
      .replace(/^(resources\.process\.PID\.last_updated \(u64\) = )\d+$/, "$1T")
  );
}
