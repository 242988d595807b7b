// A restart storm: instances that throw right after start(), restarted SAM_STORM_COUNT times
// (default 1,000) with no time limit. Prints the supervising process's memory at restart 100
// and at the last restart, then lets the process end by itself: a Worker, timer or listener
// left behind would keep it alive.
import process from "node:process";
import { RecoveryPolicy, supervise } from "../../mod.ts";

const restarts = Number(process.env.SAM_STORM_COUNT ?? 1000);
const collect = () => {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  g.gc?.();
  g.Bun?.gc(true);
};
const supervisor = supervise(new URL("./crash_app.ts", import.meta.url), {
  timeInterval: 0,
  recoveryPolicy: RecoveryPolicy.RESTART,
  maxRestarts: restarts,
  restartWindow: 2 ** 31 - 1,
});
const rss: Record<number, number> = {};
const heap: Record<number, number> = {};
const started = performance.now();
supervisor.addEventListener("restart", (e) => {
  const id = (e as CustomEvent).detail.id as number;
  if (id === 101 || id === restarts + 1) {
    collect();
    rss[id - 1] = process.memoryUsage().rss;
    heap[id - 1] = process.memoryUsage().heapUsed;
  }
});
const end = await supervisor.done;
const mib = (n: number) => (n / 1048576).toFixed(1);
console.log(
  `end ${end.reason} ${end.code} instances ${supervisor.status.instanceId} ` +
    `rss@100 ${mib(rss[100])} MiB rss@${restarts} ${mib(rss[restarts])} MiB ` +
    `growth ${mib(rss[restarts] - rss[100])} MiB (heap ${mib(heap[100])} -> ${
      mib(heap[restarts])
    } MiB) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
