// supervise() an instance that hangs as SAM_HANG says (busy or wait), then compare what the
// supervisor says about its thread with what that thread's CPU time shows. Exits at the end,
// which ends any thread left behind.
import process from "node:process";
import { readFileSync } from "node:fs";
import { RecoveryPolicy, supervise } from "../../mod.ts";

/** CPU time in ms the thread `tid` of this process has used, or -1 once it is gone. */
const threadCpuMs = (tid: number) => {
  try {
    const f = readFileSync(`/proc/self/task/${tid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return -1;
  }
};
const app = process.env.SAM_HANG === "wait" ? "./wait_app.ts" : "./busy_app.ts";
const supervisor = supervise(new URL(app, import.meta.url), {
  timeInterval: 100,
  recoveryPolicy: RecoveryPolicy.QUIT,
});
const verdict = new Promise<{ thread: string; tid: number }>((resolve) => {
  supervisor.addEventListener("thread-stopped", (e) => {
    resolve({ thread: "stopped reported=false", tid: (e as CustomEvent).detail.threadId });
  });
  supervisor.addEventListener("stuck-thread", (e) => {
    const { spinning, threadId } = (e as CustomEvent).detail;
    resolve({ thread: `stuck reported=${spinning}`, tid: threadId });
  });
});
const { code } = await supervisor.done;
const { thread, tid } = await verdict;
const before = threadCpuMs(tid);
await new Promise((r) => setTimeout(r, 300)); // a measurement window, not a synchronization
const after = threadCpuMs(tid);
// That thread's own CPU time: a spinning one adds ticks even on a loaded machine.
const spinning = before >= 0 && after - before >= 30;
console.log(
  `code=${code} thread=${thread} spinning=${spinning} stuckThreads=${supervisor.status.stuckThreads}`,
);
process.exit(0);
