// One lane of the cut-off test, as its own process so that lanes share the cores: creating a
// Worker costs the creating thread ~40 ms of CPU on Deno 2.9.6 (~20 ms on Bun 1.4.5), and a
// Worker created by a Worker starts only ~500 ms later there (serialized under `deno test`).
// The lane plays the supervisor of its own data region: it runs writer threads
// (rel_store_loop.ts) one after the other as instances 1, 2, 3, ..., cuts each one off in the
// middle of a store, and checks byte for byte that the next writer restores exactly the last
// value that was published. Options come as JSON in REL_LANE; it prints its report as JSON.
import process from "node:process";
import { RegionKeeper } from "../../supervisor/region_keeper.ts";
import { DATA_CONTROL, HOLDER_MASK, SUPERVISOR_HOLDER } from "../../shared_memory/layout.ts";
import { C, label, pattern, random, stampOf } from "./rel_pattern.ts";
import { sameBytes, spawnWriter, type Writer, writerBuffers } from "./rel_writers.ts";

/**
 * How a writer is cut off: as the supervisor gives up an instance (fence, then terminate); as
 * it cleans up after an instance that died (terminate, then fence); or with no fence at all, so
 * that the next writer has to take back a lock the dead one held by itself.
 */
export type Cut = "fence-first" | "terminate-first" | "no-fence";

export interface LaneOptions {
  seed: number;
  /** Stop after this many stores were cut off. */
  cutoffs: number;
  cuts: Cut[];
  maxSize: number;
  /** Give up (and report) after this long. */
  budgetMs: number;
  /** Writers spawned ahead, so that each one is ready when its turn comes. */
  standbys: number;
}

export interface LaneReport {
  rounds: number;
  /** Stores in flight at the cut that never returned. */
  cutoffs: number;
  /** Of those: refused because the fence came first, or stopped by the termination. */
  refusedByFence: number;
  killed: number;
  /** Cut-off stores by cut and by size (up to 4 KiB, up to 1 MiB, up to 16 MiB). */
  byCut: Record<Cut, number>;
  bySize: [number, number, number];
  largestCut: number;
  /** Writers that died holding the lock; the next one took it back. */
  diedHoldingLock: number;
  restoredBytes: number;
  failures: string[];
  ms: number;
}

const WAIT_MS = 10_000;
const KiB = 1024;
const MiB = 1024 * KiB;
const options = JSON.parse(process.env.REL_LANE!) as LaneOptions;
const next = random(options.seed);
const scratch = new Uint8Array(options.maxSize);
const buffers = writerBuffers(options.maxSize);
const ctl = buffers.ctl;
const spawn = () => spawnWriter(buffers);

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${WAIT_MS} ms`)), WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Blocks (Atomics.wait: woken within microseconds) until the writer begins a store of at least
 * `minSize` bytes, after `skip` such stores.
 */
function awaitAttempt(minSize: number, skip: number): void {
  for (;;) {
    const seen = Atomics.load(ctl, C.ATTEMPT);
    if (Atomics.wait(ctl, C.ATTEMPT, seen, WAIT_MS) === "timed-out") {
      throw new Error(`the writer began no store for ${WAIT_MS} ms (stuck on the lock?)`);
    }
    if (Atomics.load(ctl, C.ATTEMPT_LEN) >= minSize && skip-- === 0) return;
  }
}

/** A store: its sequence number and length. */
type Store = [seq: number, length: number];

/** Which of `candidates` `bytes` is, byte for byte; undefined for none. */
function whichOf(bytes: Uint8Array, candidates: Store[]): Store | undefined {
  const stamp = stampOf(bytes);
  return candidates.find(([seq, length]) =>
    // A stamped value names its store: only that one's pattern is built.
    length === bytes.byteLength && (stamp === -1 || stamp === seq) &&
    sameBytes(bytes, pattern(seq, length, scratch))
  );
}

async function run(): Promise<LaneReport> {
  const report: LaneReport = {
    rounds: 0,
    cutoffs: 0,
    refusedByFence: 0,
    killed: 0,
    byCut: { "fence-first": 0, "terminate-first": 0, "no-fence": 0 },
    bySize: [0, 0, 0],
    largestCut: 0,
    diedHoldingLock: 0,
    restoredBytes: 0,
    failures: [],
    ms: 0,
  };
  const started = performance.now();
  const keeper = RegionKeeper.create(options.maxSize);
  const region = keeper.region;
  region.store(SUPERVISOR_HOLDER, pattern(0, 100), false);
  ctl[C.DONE_LEN] = ctl[C.ATTEMPT_LEN] = 100;
  ctl[C.REFUSED] = -1;
  // What is known to be stored (the value the last writer restored), and the last store begun
  // before that restore: it was published then or never will be.
  let known: Store = [0, 100];
  let settled = 0;
  /** What may be stored now: the last store known to be published, or one begun after it. */
  const candidates = (): Store[] => {
    const done = ctl[C.DONE], attempt = ctl[C.ATTEMPT];
    const base: Store = done > known[0] ? [done, ctl[C.DONE_LEN]] : known;
    return attempt > base[0] && attempt > settled && ctl[C.REFUSED] !== attempt
      ? [base, [attempt, ctl[C.ATTEMPT_LEN]]]
      : [base];
  };
  const standbys: Writer[] = [];
  let current: Writer | undefined;
  let lastCut = "none";
  try {
    for (let id = 1;; id++) {
      if (
        report.cutoffs >= options.cutoffs || performance.now() - started > options.budgetMs ||
        report.failures.length >= 5
      ) break;
      while (standbys.length < Math.max(1, options.standbys)) standbys.push(spawn());
      current = standbys.shift()!;
      const possible = candidates();
      settled = ctl[C.ATTEMPT];
      keeper.admit(id);
      current.activate({
        id,
        handles: region.handles,
        seed: (options.seed ^ Math.imul(id, 0x2545f491)) | 0,
        maxSize: options.maxSize,
        untilRefused: true,
      });
      const bytes = await within(current.restored, `writer ${id} restoring after ${lastCut}`);
      report.rounds++;
      report.restoredBytes += bytes.byteLength;
      const found = whichOf(bytes, possible);
      if (found === undefined) {
        report.failures.push(
          `writer ${id} restored ${label(bytes)} after a ${lastCut} cut, not ${
            possible.map(([seq, length]) => `seq ${seq} (${length} bytes)`).join(" or ")
          }`,
        );
        break;
      }
      known = found;
      // Random timing: when the first or second store of at least a random size begins, then
      // a random 0 to 300 µs into it.
      const u = next();
      awaitAttempt(u < 0.2 ? 0 : u < 0.5 ? 64 * KiB : MiB, Math.floor(next() * 2));
      for (const until = performance.now() + next() * 0.3; performance.now() < until;);
      const cut = options.cuts[Math.floor(next() * options.cuts.length)];
      lastCut = cut;
      const inFlight = Atomics.load(ctl, C.ATTEMPT);
      const inFlightLength = Atomics.load(ctl, C.ATTEMPT_LEN);
      // Each writer is gone for good before the next one comes: this test is about stores cut
      // off. A thread that runs on after it was given up is the fencing tests' subject.
      if (cut === "fence-first") keeper.fence(id);
      current.worker.terminate();
      await within(current.gone(), `writer ${id} ending`);
      if ((Atomics.load(region.header, DATA_CONTROL) & HOLDER_MASK) === id) {
        report.diedHoldingLock++;
      }
      if (cut === "terminate-first") keeper.fence(id);
      current = undefined;
      if (ctl[C.DONE] >= inFlight) continue; // the store returned: not cut off
      report.cutoffs++;
      report.byCut[cut]++;
      if (ctl[C.REFUSED] === inFlight) report.refusedByFence++;
      else report.killed++;
      report.bySize[inFlightLength <= 4 * KiB ? 0 : inFlightLength <= MiB ? 1 : 2]++;
      report.largestCut = Math.max(report.largestCut, inFlightLength);
    }
    if (report.failures.length === 0) {
      // The supervisor's own view at the end, once no writer holds the lock.
      keeper.fence(Atomics.load(region.header, DATA_CONTROL) & HOLDER_MASK);
      const possible = candidates();
      const last = region.restore(SUPERVISOR_HOLDER, undefined, false);
      if (whichOf(last, possible) === undefined) {
        report.failures.push(`the supervisor restored ${label(last)} at the end`);
      }
    }
  } catch (e) {
    report.failures.push(String(e));
  } finally {
    const left = current ? [current, ...standbys] : standbys;
    for (const writer of left) writer.worker.terminate();
    await Promise.all(left.map((writer) => writer.gone().catch(() => {})));
  }
  report.ms = Math.round(performance.now() - started);
  return report;
}

console.log(JSON.stringify(await run()));
