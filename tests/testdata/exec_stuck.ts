// Hands over from an image with two Workers that terminate() left running (on Deno 2.9) to a
// fresh image of the same process, and reports on both as one JSON line each.
//
// Image 1: starts the spinning Worker (holding a listening socket on EXEC_PORT) and the
// sleeping one, terminates both, reports whether they are still there, then execs in place
// with a pattern of EXEC_PAYLOAD bytes (1 MiB by default). Image 2: reports at once that it
// got the bytes back (the first line, for timing), then whether they are the pattern, the
// process's threads, its CPU use
// over 200 ms, whether it can listen on EXEC_PORT, and what is left of the marker; it exits 7.
// Lines go out with writeSync so that none is still buffered when the image is replaced.
import process from "node:process";
import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { existsSync, readdirSync, readFileSync, readlinkSync, writeSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { runtime } from "../../platform/runtime.ts";
import { execInPlace, takeHandOver } from "../../handover/exec.ts";

const now = () => performance.timeOrigin + performance.now();
const startedAt = now();
const handedOver = takeHandOver();
const tookMs = now() - startedAt;
const port = Number(process.env.EXEC_PORT ?? 0);
const size = Number(process.env.EXEC_PAYLOAD ?? 1 << 20);
const print = (fields: Record<string, unknown>) =>
  writeSync(1, JSON.stringify({ ...fields, at: now() }) + "\n");
const pattern = (i: number) => (i ^ (i >>> 8) ^ (i >>> 16) ^ 0x5a) & 255;
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cpuMs = () => {
  const f = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
};
const tasks = () => readdirSync("/proc/self/task").map(Number);
const signalMasks = () => {
  const status = readFileSync("/proc/self/status", "utf8");
  return ["SigBlk", "SigIgn"].map((k) => new RegExp(`^${k}:\\s*(\\w+)`, "m").exec(status)![1]);
};

/** Whether this process can listen on `port` now, or the error code that says why not. */
function tryListen(): Promise<string> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (error) => resolve((error as { code?: string }).code ?? "error"));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve("ok")));
  });
}

if (process.env.EXEC_BASELINE) {
  // For bench/exec_in_place.ts: a plain start of this program, to its first line.
  print({ baseline: true });
  process.exit(0);
}

if (handedOver !== null) {
  print({ image: 2, pid: process.pid, length: handedOver.length, tookMs });
  let equal = handedOver.length === size;
  let checksum = 0;
  for (let i = 0; i < handedOver.length; i++) {
    if (equal && handedOver[i] !== pattern(i)) equal = false;
    checksum = (checksum * 31 + handedOver[i]) >>> 0;
  }
  print({ image: 2, equal, checksum });
  const before = cpuMs();
  await delay(200);
  const cpu = cpuMs() - before;
  const memfds = readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith("/memfd:");
    } catch {
      return false;
    }
  });
  const childEnv = spawnSync("/usr/bin/env", { encoding: "utf8" }).stdout;
  print({
    image: 2,
    tasks: tasks(),
    cpuMsIn200: cpu,
    listen: port ? await tryListen() : "no port",
    markerInEnv: process.env.SAM_HANDOVER_FD ?? null,
    markerInChild: childEnv.includes("SAM_HANDOVER_FD"),
    memfds,
    masks: signalMasks(),
  });
  process.exit(7);
}

/** Starts a Worker and resolves with it and the thread id it reports. */
function start(file: string, workerData: unknown): Promise<[Worker, number]> {
  const worker = new Worker(new URL(file, import.meta.url), { workerData });
  return new Promise((resolve, reject) => {
    worker.once("message", (m) => typeof m === "number" ? resolve([worker, m]) : reject(m));
    worker.once("error", reject);
  });
}

const [spinner, spinTid] = await start("./exec_spin_worker.ts", { port });
const [sleeper, sleepTid] = await start("./exec_sleep_worker.ts", {});
spinner.terminate();
sleeper.terminate();
// A window to measure in, not to wait for something: a spinning thread uses it all.
const cpuOf = (tid: number) => {
  const sample = runtime.threadSample(tid);
  return typeof sample === "object" ? sample.cpuMs : -1;
};
const spinBefore = cpuOf(spinTid);
await delay(300);
const spinAfter = cpuOf(spinTid);
print({
  image: 1,
  pid: process.pid,
  spinTid,
  sleepTid,
  spinAlive: existsSync(`/proc/self/task/${spinTid}`),
  sleepAlive: existsSync(`/proc/self/task/${sleepTid}`),
  spinCpuMsIn300: spinAfter < 0 || spinBefore < 0 ? -1 : spinAfter - spinBefore,
  listen: port ? await tryListen() : "no port",
  tasks: tasks(),
  masks: signalMasks(),
});
const payload = new Uint8Array(size);
for (let i = 0; i < size; i++) payload[i] = pattern(i);
print({ image: 1, exec: true });
try {
  execInPlace(payload);
} catch (error) {
  print({ image: 1, error: String(error) });
  process.exit(3);
}
