// Instance 1 hangs in a JavaScript busy loop, which Deno 2.7 to 2.9 cannot stop in a Worker.
// Whatever instance runs last measures whether any thread of its process still burns CPU.
// SAM_RESPAWN=0 sets respawnOnStuckThread: false.
import process from "node:process";
import { readFileSync } from "node:fs";
import * as sam from "../../mod.ts";

const cpuMs = () => {
  const f = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
sam.initialize(200, sam.RecoveryPolicy.RESTART, {
  respawnOnStuckThread: process.env.SAM_RESPAWN !== "0",
});
const iid = await sam.register();
const restored = new TextDecoder().decode(sam.dataRestore());
console.log(`iid ${iid} pid ${process.pid} restored "${restored}"`);
await sam.start();
if (iid === 1) {
  sam.dataStore(new TextEncoder().encode("before the loop"));
  for (;;);
}
const beat = setInterval(() => sam.hcSend(), 50);
await sleep(1500); // long enough for the supervisor to find a stuck thread
const before = cpuMs();
await sleep(500);
console.log(`iid ${iid} cpu ${cpuMs() - before} ms in 500 ms`);
clearInterval(beat);
sam.stop();
