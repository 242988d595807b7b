// supervise() an instance that hangs as SAM_HANG says (busy or wait), then compare what the
// supervisor says about its thread with what the process's CPU time shows. Exits at the end,
// which ends any thread left behind.
import process from "node:process";
import { readFileSync } from "node:fs";
import { RecoveryPolicy, supervise } from "../../mod.ts";

const cpuMs = () => {
  const f = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
};
const app = process.env.SAM_HANG === "wait" ? "./wait_app.ts" : "./busy_app.ts";
const supervisor = supervise(new URL(app, import.meta.url), {
  timeInterval: 100,
  recoveryPolicy: RecoveryPolicy.QUIT,
});
const verdict = new Promise<string>((resolve) => {
  supervisor.addEventListener("thread-stopped", () => resolve("stopped reported=false"));
  supervisor.addEventListener(
    "stuck-thread",
    (e) => resolve(`stuck reported=${(e as CustomEvent).detail.spinning}`),
  );
});
const { code } = await supervisor.done;
const thread = await verdict;
const before = cpuMs();
await new Promise((r) => setTimeout(r, 300)); // a measurement window, not a synchronization
const spinning = cpuMs() - before > 150;
console.log(
  `code=${code} thread=${thread} spinning=${spinning} stuckThreads=${supervisor.status.stuckThreads}`,
);
process.exit(0);
