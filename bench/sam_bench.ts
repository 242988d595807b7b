// Times sam on the runtime running it (Deno, Bun or Node) and prints ONE JSON line with the fields of
// libsam_bench.c (the real libsam), plus baselines of what the runtime itself costs. See
// README.md in this folder; bench/run.ts runs it on all three runtimes and next to libsam.
import process from "node:process";
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { Worker as NodeWorker } from "node:worker_threads";
import { RecoveryPolicy, supervise, type SupervisorEnd } from "../mod.ts";
import { runtimeName, runtimeVersion, scriptArgs } from "../tests/harness/runtime.ts";
import type { ChainConfig, OpsConfig, RssConfig } from "./_instance_app.ts";
import { writeBigApp } from "./_big_app.ts";

const APP = new URL("./_instance_app.ts", import.meta.url);
const ECHO = new URL("./_echo_worker.ts", import.meta.url);
const WEB_ECHO = new URL("./_web_echo_worker.ts", import.meta.url);
const STUCK = new URL("./_stuck_app.ts", import.meta.url);
const STARTUP = new URL("./_startup_app.ts", import.meta.url);
/** Timed recoveries of a stuck thread: each costs a new image of the process on Deno. */
const STUCK_RUNS = 5;
const SIZES = [64, 4096, 65536, 1048576, 16777216];
/** Timed rounds of every loop; each field is the median over them. */
const ROUNDS = 5;
/** Recoveries timed for crash_to_next_instance_ms and hang_to_next_instance_ms. */
const RECOVERIES = 9;
/** How long each instance of a chain runs before it crashes or hangs. */
const SETTLE_MS = 250;
const PHASE_TIMEOUT_MS = 40_000;
/** Timed spawns of a bare Worker. */
const SPAWNS = 9;

const started = performance.now();

/** Progress on stderr with SAM_BENCH_VERBOSE=1. */
function log(what: string): void {
  if (process.env.SAM_BENCH_VERBOSE) {
    console.error(`[${runtimeName} ${(performance.now() - started).toFixed(0)} ms] ${what}`);
  }
}

function median(values: number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Rounds as the figures are printed: ns to 0.1, ms to 0.001, bytes whole. */
function rounded(key: string, value: number): number {
  if (key.endsWith("_ms")) return Math.round(value * 1000) / 1000;
  if (key.endsWith("_ns")) return value >= 1000 ? Math.round(value) : Math.round(value * 10) / 10;
  return Math.round(value);
}

/** Runs a supervision of _instance_app.ts seeded with `config`; returns what the last instance stored. */
async function supervised<T>(
  config: OpsConfig | ChainConfig | RssConfig,
  timeInterval: number,
  recoveryPolicy: number,
  app: URL = APP,
  standby = true,
): Promise<T> {
  const supervisor = supervise(app, {
    timeInterval,
    recoveryPolicy,
    standby,
    data: new TextEncoder().encode(JSON.stringify(config)),
  });
  const exits: string[] = [];
  let stuck = 0;
  supervisor.addEventListener("exit", (e) => {
    const { id, code } = (e as CustomEvent).detail;
    exits.push(`${id}:${code}`);
  });
  supervisor.addEventListener("stuck-thread", () => stuck++);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<SupervisorEnd>((resolve) => {
    timer = setTimeout(() => {
      console.error(
        `sam bench: ${config.mode} did not end within ${PHASE_TIMEOUT_MS} ms; stopping it`,
      );
      resolve(supervisor.stop());
    }, PHASE_TIMEOUT_MS);
  });
  const end = await Promise.race([supervisor.done, timeout]);
  clearTimeout(timer);
  log(`${config.mode}: exit codes by instance ${exits.join(" ")}`);
  if (stuck > 0) {
    console.error(`sam bench: ${config.mode}: ${stuck} terminated thread(s) kept running`);
  }
  if (end.reason !== "exited" || end.code !== 0) {
    const how = `${JSON.stringify(end)}, exit codes by instance ${exits.join(" ")}`;
    throw new Error(`sam bench: ${config.mode} ended with ${how}`);
  }
  return JSON.parse(new TextDecoder().decode(supervisor.data())) as T;
}

/** Time from an instance's crash (or last health check) to the next one's register(), median. */
async function recovery(
  mode: "crash" | "hang",
  timeInterval: number,
  app: URL = APP,
): Promise<number> {
  const config: ChainConfig = { mode, runs: RECOVERIES, settleMs: SETTLE_MS, results: [] };
  const state = await supervised<ChainConfig>(config, timeInterval, RecoveryPolicy.RESTART, app);
  if (state.results.length !== RECOVERIES) {
    throw new Error(
      `sam bench: ${mode} timed ${state.results.length} recoveries, not ${RECOVERIES}`,
    );
  }
  log(`${mode}: ${state.results.map((ms) => ms.toFixed(2)).join(" ")} ms`);
  return median(state.results);
}

/** The little of a web Worker that the message baseline uses. */
interface Echo {
  onmessage: (() => void) | null;
  postMessage(message: unknown): void;
  terminate(): void;
}

/**
 * Posts `payload` (copied) to an echo Worker `reps` times, one at a time, each acknowledged; ns
 * per round trip. A web Worker, not node:worker_threads: on Deno 2.9 the latter copies bytes
 * some 50 times slower (about 100 ms per MiB), and a message-passing design would not use it.
 */
function pingPong(worker: Echo, payload: Uint8Array, reps: number): Promise<number> {
  return new Promise((resolve) => {
    let left = reps;
    const a = performance.now();
    worker.onmessage = () => {
      if (--left > 0) return worker.postMessage(payload);
      worker.onmessage = null;
      resolve((performance.now() - a) * 1e6 / reps);
    };
    worker.postMessage(payload);
  });
}

/** A web Worker echoing, or on Node (which has none) a node:worker_threads one. */
function echoWorker(): Promise<Echo> {
  const fail = (e: { message: string }) => new Error(`sam bench: echo worker failed: ${e.message}`);
  if (typeof Worker !== "function") {
    const worker = new NodeWorker(ECHO);
    const echo: Echo = {
      onmessage: null,
      postMessage: (message) => worker.postMessage(message),
      terminate: () => void worker.terminate(),
    };
    return new Promise((resolve, reject) => {
      worker.once("message", () => {
        worker.on("message", () => echo.onmessage?.());
        resolve(echo);
      });
      worker.once("error", (e) => reject(fail(e)));
    });
  }
  const worker = new Worker(WEB_ECHO, { type: "module" });
  return new Promise((resolve, reject) => {
    worker.onmessage = () => resolve(worker as unknown as Echo);
    worker.onerror = (e) => reject(fail(e));
  });
}

async function messageNs(): Promise<Record<string, number>> {
  const worker = await echoWorker();
  const out: Record<string, number> = {};
  for (const size of SIZES) {
    const payload = new Uint8Array(size).fill(7);
    const reps = size >= 1 << 20 ? 20 : 2000;
    const times: number[] = [];
    for (let round = 0; round <= ROUNDS; round++) {
      const ns = await pingPong(worker, payload, reps);
      if (round > 0) times.push(ns);
    }
    out[`message_${size}_ns`] = median(times);
  }
  worker.terminate();
  return out;
}

/** node:worker_threads, as sam's instances: from `new Worker` to its first message. */
async function bareWorkerSpawnMs(): Promise<number> {
  const times: number[] = [];
  for (let round = 0; round <= SPAWNS; round++) {
    const a = performance.now();
    const worker = new NodeWorker(ECHO);
    await new Promise((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    if (round > 0) times.push(performance.now() - a);
    await worker.terminate();
  }
  return median(times);
}

/**
 * A busy-looping instance of a libsam-style program (interval 100): from its last health
 * check to the next instance's register(), across the hand-over where the runtime cannot stop
 * the thread (Deno: exec in place); elsewhere the same as a hang.
 */
async function stuckToNextMs(): Promise<{ ms: number; samePid: boolean }> {
  const args = scriptArgs(STUCK.pathname);
  const child = spawn(process.execPath, args, {
    env: { ...process.env, STUCK_RUNS: String(STUCK_RUNS), NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout!.on("data", (d) => out += d);
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const line = out.trim().split("\n").at(-1) ?? "";
  if (code !== 0 || !line.startsWith("{")) {
    throw new Error(`sam bench: the stuck program ended with ${code}: ${out}`);
  }
  const { pid, results } = JSON.parse(line) as { pid: number; results: number[] };
  log(`stuck: ${results.map((ms) => ms.toFixed(2)).join(" ")} ms`);
  return { ms: median(results), samePid: pid === child.pid };
}

/** The process's RSS with an instance of `app` running, with and without its standby. */
async function standbyRssBytes(app: URL): Promise<number> {
  const rss = async (standby: boolean) => {
    const config: RssConfig = { mode: "rss", settleMs: 4 * SETTLE_MS };
    const out = await supervised<{ rss: number }>(config, 0, RecoveryPolicy.QUIT, app, standby);
    return out.rss;
  };
  const samples: number[] = [];
  for (let round = 0; round < 3; round++) samples.push(await rss(true) - await rss(false));
  return median(samples);
}

/** From starting a libsam-style program (a small one) to its instance 1's register(). */
async function startupToFirstRegisterMs(): Promise<number> {
  const times: number[] = [];
  for (let round = 0; round <= 5; round++) {
    const args = scriptArgs(STARTUP.pathname);
    const spawnedAt = performance.timeOrigin + performance.now();
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout!.on("data", (d) => out += d);
    await new Promise((resolve) => child.on("close", resolve));
    const registeredAt = Number(out.trim());
    if (!Number.isFinite(registeredAt)) throw new Error(`sam bench: startup printed ${out}`);
    if (round > 0) times.push(registeredAt - spawnedAt);
  }
  return median(times);
}

async function main(): Promise<void> {
  // sam first, in a fresh process, so that the RSS figure holds no garbage of the baselines.
  const ops = await supervised<Record<string, number>>(
    { mode: "ops", rounds: ROUNDS, sizes: SIZES },
    0,
    RecoveryPolicy.QUIT,
  );
  if (ops.peak_rss_stored_bytes !== SIZES[SIZES.length - 1]) {
    throw new Error(`sam bench: ${ops.peak_rss_stored_bytes} bytes stored at the RSS sample`);
  }
  log(`ops: ${JSON.stringify(ops)}`);
  const crash = await recovery("crash", 0);
  const hang = await recovery("hang", 100);
  const result: Record<string, number | string> = {
    runtime: runtimeName,
    version: runtimeVersion,
    time_interval_ms: 100,
    hc_send_ns: ops.hc_send_ns,
  };
  for (const size of SIZES) {
    result[`store_${size}_ns`] = ops[`store_${size}_ns`];
    result[`restore_${size}_ns`] = ops[`restore_${size}_ns`];
  }
  result.crash_to_next_instance_ms = crash;
  result.hang_to_next_instance_ms = hang;
  const big = writeBigApp(APP);
  try {
    result.crash_to_next_instance_big_app_ms = await recovery("crash", 0, big.entry);
    result.big_app_bytes = big.bytes;
    result.standby_rss_big_app_bytes = await standbyRssBytes(big.entry);
  } finally {
    rmSync(big.dir, { recursive: true, force: true });
  }
  result.startup_to_first_register_ms = await startupToFirstRegisterMs();
  const stuck = await stuckToNextMs();
  if (!stuck.samePid) throw new Error("sam bench: the stuck program changed its pid");
  result.stuck_to_next_instance_ms = stuck.ms;
  // Timed by the instance, next to each store and restore.
  for (const size of SIZES) result[`raw_copy_${size}_ns`] = ops[`raw_copy_${size}_ns`];
  Object.assign(result, await messageNs());
  log("messages timed");
  result.bare_worker_spawn_ms = await bareWorkerSpawnMs();
  // Sampled by the instance with 16 MiB stored: the whole process, supervisor and standby
  // Worker included, and the instance's own 16 MiB source and target arrays.
  result.peak_rss_16mib_bytes = ops.peak_rss_bytes;
  for (const [key, value] of Object.entries(result)) {
    if (typeof value === "number") result[key] = rounded(key, value);
  }
  process.stdout.write(JSON.stringify(result) + "\n");
}

await main().catch((error) => {
  console.error(error);
  process.exit(1);
});
