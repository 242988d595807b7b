// A restart storm under supervise(), as its own process: REL_STORM_COUNT (default 1,000)
// crash-restarts in a row, no time limit, policy RESTART, each instance carrying a 256 KiB
// value on to the next (rel_storm_app.ts). Samples this process's memory after a full GC from
// restart 100 on (rel_rss.ts), stops supervision at the last restart, checks what is stored, prints
// one line of figures and then ends by itself: a Worker, timer or listener left behind would
// keep it alive.
import process from "node:process";
import { RecoveryPolicy, supervise } from "../../mod.ts";
import { pattern, stampOf } from "./rel_pattern.ts";
import { RssSamples } from "./rel_rss.ts";

const restarts = Number(process.env.REL_STORM_COUNT ?? 1000);
const VALUE_BYTES = 256 * 1024;
const started = performance.now();
const supervisor = supervise(new URL("./rel_storm_app.ts", import.meta.url), {
  timeInterval: 0,
  recoveryPolicy: RecoveryPolicy.RESTART,
  data: pattern(0, VALUE_BYTES),
});
const memory = new RssSamples(restarts);
const exitCodes = new Map<number, number>();
let restartEvents = 0;
let lastRestartId = 0;
let ordered = true;
supervisor.addEventListener("exit", (e) => {
  const { code } = (e as CustomEvent).detail;
  exitCodes.set(code, (exitCodes.get(code) ?? 0) + 1);
});
supervisor.addEventListener("restart", (e) => {
  const id = (e as CustomEvent).detail.id as number;
  restartEvents++;
  ordered &&= id === lastRestartId + 1 || lastRestartId === 0;
  lastRestartId = id;
  memory.maybeSample(id - 1);
  if (id === restarts + 1) void supervisor.stop();
});
const end = await supervisor.done;
const seconds = (performance.now() - started) / 1000;
const stored = supervisor.data();
const count = stampOf(stored);
const expected = pattern(count, VALUE_BYTES);
const whole = stored.length === VALUE_BYTES && stored.every((b, i) => b === expected[i]);
console.log(
  `restarts ${restartEvents} ordered ${ordered} end ${end.reason} ${end.code} ` +
    `exit codes ${JSON.stringify(Object.fromEntries(exitCodes))} stored count ${count} ` +
    `whole ${whole} ${memory.summary()} in ${seconds.toFixed(1)} s ` +
    `(${(seconds * 1000 / restarts).toFixed(1)} ms a restart)`,
);
