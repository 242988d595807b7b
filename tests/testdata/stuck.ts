// Instance 1 hangs as SAM_HANG says: "busy" (a JavaScript busy loop) or "wait" (an endless
// Atomics.wait), neither of which Deno 2.7 to 2.9 can stop in a Worker. Whatever instance
// runs last measures whether any thread of its process still burns CPU, and how many threads
// the process has. SAM_HANDOVER sets the handOver option.
import process from "node:process";
import { readdirSync, readFileSync } from "node:fs";
import * as sam from "../../mod.ts";

// Deno refuses /proc to its file API without --allow-all: -1 then.
const cpuMs = () => {
  try {
    const f = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return -1;
  }
};
const threadCount = () => {
  try {
    return readdirSync("/proc/self/task").length;
  } catch {
    return -1;
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const handOver = process.env.SAM_HANDOVER as "exec" | "respawn" | "none" | undefined;
sam.initialize(200, sam.RecoveryPolicy.RESTART, handOver ? { handOver } : {});
const iid = await sam.register();
const restored = new TextDecoder().decode(sam.dataRestore());
console.log(`iid ${iid} pid ${process.pid} restored "${restored}"`);
await sam.start();
if (iid === 1) {
  sam.dataStore(new TextEncoder().encode("before the hang"));
  if (process.env.SAM_HANG === "wait") Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  for (;;);
}
const beat = setInterval(() => sam.hcSend(), 50);
await sleep(300); // time for anything left behind to show in the CPU time
const before = cpuMs();
await sleep(500);
const threads = threadCount();
console.log(`iid ${iid} cpu ${cpuMs() - before} ms in 500 ms threads ${threads}`);
clearInterval(beat);
sam.stop();
