// The application that sam_bench.ts supervises: every instance runs this module. What to do
// comes through sam's own stored data (seeded with `supervise(..., { data })`), and the
// results go back the same way: the last instance stores them and the supervisor reads them
// with `supervisor.data()` once supervision has ended.
//
// - `ops`: times hcSend(), dataStore() and dataRestore() inside one instance, and next to
//   each size the raw copy they are compared with.
// - `crash`: a chain of instances; each one (after the first) reports the time from the
//   previous instance's crash to its own register(), then crashes in turn while started.
// - `hang`: the same with a hang: the instance sends a last health check and blocks, and the
//   supervisor terminates it at the deadline (no warning listener).
import process from "node:process";
import * as sam from "../mod.ts";

/** What sam_bench.ts seeds for the `ops` mode. */
export interface OpsConfig {
  mode: "ops";
  /** Timed rounds after one warm-up round; each field is the median over the rounds. */
  rounds: number;
  sizes: number[];
}

/** What sam_bench.ts seeds for a chain; each instance stores it back, updated. */
export interface ChainConfig {
  mode: "crash" | "hang";
  /** How many recoveries to time. */
  runs: number;
  /** How long each instance runs, sending health checks, before it crashes or hangs. */
  settleMs: number;
  /** When the previous instance crashed, or sent its last health check (epoch ms). */
  t?: number;
  /** ms from `t` to the next instance's register(), one per recovery. */
  results: number[];
}

/** What sam_bench.ts seeds to sample the process's RSS once the standby is ready. */
export interface RssConfig {
  mode: "rss";
  /** How long to run first, so that the standby (if any) is there. */
  settleMs: number;
}

const HC_SENDS = 200_000;
/** One blocking wait of a hung instance: short, so that terminate() gets through between waits
 * well within the supervisor's watch of the terminated thread (else it would count as stuck). */
const HANG_WAIT_MS = 5;
const clock = () => performance.timeOrigin + performance.now();

function storeJson(value: unknown): void {
  sam.dataStore(new TextEncoder().encode(JSON.stringify(value)));
}

function median(values: number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Repetitions of a store or restore loop: enough for a round of several ms, at least 20. */
function repsFor(size: number): number {
  return Math.max(20, Math.min(20_000, Math.floor(2 ** 27 / size)));
}

function timeHcSend(n: number): number {
  const a = performance.now();
  for (let i = 0; i < n; i++) sam.hcSend();
  return (performance.now() - a) * 1e6 / n;
}

function timeStore(bytes: Uint8Array, n: number): number {
  const a = performance.now();
  // As libsam_bench.c does: a health check after each store.
  for (let i = 0; i < n; i++) {
    sam.dataStore(bytes);
    sam.hcSend();
  }
  return (performance.now() - a) * 1e6 / n;
}

/** The baseline: the same bytes with TypedArray.set into a SharedArrayBuffer, no lock. */
function timeRawCopy(bytes: Uint8Array, target: Uint8Array, n: number): number {
  const a = performance.now();
  for (let i = 0; i < n; i++) target.set(bytes);
  return (performance.now() - a) * 1e6 / n;
}

function timeRestore(into: Uint8Array, n: number): number {
  const a = performance.now();
  for (let i = 0; i < n; i++) sam.dataRestore(into);
  return (performance.now() - a) * 1e6 / n;
}

async function ops(config: OpsConfig): Promise<void> {
  await sam.start();
  const largest = Math.max(...config.sizes);
  const source = new Uint8Array(largest).fill(7);
  const into = new Uint8Array(largest);
  const raw = new Uint8Array(new SharedArrayBuffer(largest));
  const samples: Record<string, number[]> = {};
  const add = (key: string, value: number) => (samples[key] ??= []).push(value);
  let peakRss = 0;
  for (let round = 0; round <= config.rounds; round++) {
    const timed = round > 0; // round 0 warms up (and grows the data slots)
    const hc = timeHcSend(HC_SENDS);
    if (timed) add("hc_send_ns", hc);
    for (const size of config.sizes) {
      const reps = repsFor(size);
      // The baseline right before, in the same thread, so that the ratios compare like with
      // like (measured apart, they moved by up to 5x on this shared machine).
      const rawCopy = timeRawCopy(source.subarray(0, size), raw, reps);
      const store = timeStore(source.subarray(0, size), reps);
      const restore = timeRestore(into, reps);
      if (timed) {
        add(`raw_copy_${size}_ns`, rawCopy);
        add(`store_${size}_ns`, store);
        add(`restore_${size}_ns`, restore);
      }
    }
    // 16 MiB is stored now. RSS is the whole process: supervisor and standby Worker too.
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const results: Record<string, number> = {};
  for (const [key, values] of Object.entries(samples)) results[key] = median(values);
  results.peak_rss_bytes = peakRss;
  results.peak_rss_stored_bytes = sam.dataGetsize();
  storeJson(results);
  // Stopped, the instance's normal end ends supervision.
  sam.stop();
}

async function rss(config: RssConfig): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, config.settleMs));
  storeJson({ rss: process.memoryUsage().rss });
}

async function chain(state: ChainConfig, registeredAt: number): Promise<void> {
  if (state.t !== undefined) state.results.push(registeredAt - state.t);
  if (state.results.length >= state.runs) {
    storeJson(state);
    return; // not started: this end ends supervision
  }
  await sam.start();
  // Run for a while first, as a real application does (and as libsam_bench.c's instance 1
  // does): this leaves the supervisor time to get its standby Worker ready.
  const until = clock() + state.settleMs;
  while (clock() < until) {
    sam.hcSend();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (state.mode === "crash") {
    state.t = clock();
    storeJson(state);
    throw new Error("sam bench: deliberate crash of a started instance");
  }
  sam.hcSend();
  state.t = clock();
  storeJson(state);
  // Hang without spinning: wait on a word nobody notifies. In short waits, with a turn of the
  // event loop between them: Deno 2.9's Worker.terminate() stops a thread only there, so a
  // wait without end would leave the thread behind (the supervisor counts it as stuck).
  const word = new Int32Array(new SharedArrayBuffer(4));
  const block = () => {
    Atomics.wait(word, 0, 0, HANG_WAIT_MS);
    setTimeout(block, 0);
  };
  block();
}

// The supervisor's options are authoritative; in an instance this is a replay.
sam.initialize(0, sam.RecoveryPolicy.RESTART);
await sam.register();
const registeredAt = clock();
const config = JSON.parse(new TextDecoder().decode(sam.dataRestore())) as
  | OpsConfig
  | ChainConfig
  | RssConfig;
if (config.mode === "ops") await ops(config);
else if (config.mode === "rss") await rss(config);
else await chain(config, registeredAt);
