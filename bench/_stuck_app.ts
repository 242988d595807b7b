// A libsam-style program for stuck_to_next_instance_ms: each instance (after the first)
// reports the time from its predecessor's last health check to its own register(), then runs
// a while and hangs in a busy loop, which Deno 2.9 cannot stop in a Worker: the supervisor
// hands over to a new image of the process, where the next instance starts. After
// STUCK_RUNS recoveries the last one prints the figures as one JSON line and ends.
import process from "node:process";
import * as sam from "../mod.ts";

interface Chain {
  /** When the previous instance sent its last health check (epoch ms, with fractions). */
  t?: number;
  results: number[];
}

const runs = Number(process.env.STUCK_RUNS ?? 5);
const clock = () => performance.timeOrigin + performance.now();
sam.initialize(100, sam.RecoveryPolicy.RESTART);
await sam.register();
const at = clock();
const saved = sam.dataRestore();
const chain: Chain = saved.length ? JSON.parse(new TextDecoder().decode(saved)) : { results: [] };
if (chain.t !== undefined) chain.results.push(at - chain.t);
if (chain.results.length >= runs) {
  console.log(JSON.stringify({ pid: process.pid, results: chain.results }));
  process.exit(0);
}
await sam.start();
const beat = setInterval(() => sam.hcSend(), 20);
await new Promise((resolve) => setTimeout(resolve, 250));
clearInterval(beat);
sam.hcSend();
chain.t = clock();
sam.dataStore(new TextEncoder().encode(JSON.stringify(chain)));
for (;;);
