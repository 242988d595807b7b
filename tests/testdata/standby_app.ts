// An application for supervise() that reports when its Worker started: each instance adds
// when its Worker started and its predecessor's crash time to the stored record,
// runs a while (time for the supervisor to spawn a standby), then crashes. The third one ends.
import * as sam from "../../mod.ts";
import { runtimeName } from "../harness/runtime.ts";

interface Entry {
  /** When this instance's Worker started (epoch ms). */
  workerStarted: number;
  /** When the previous instance crashed (epoch ms), or null for the first. */
  previousCrashed: number | null;
}
interface Record {
  crashedAt: number | null;
  entries: Entry[];
}

/**
 * When this Worker started (epoch ms): its time origin, except on Node, whose Workers keep the
 * process's time origin and note when their own environment was made in `nodeTiming`.
 */
function workerStarted(): number {
  const node = (performance as unknown as { nodeTiming?: { environment: number } }).nodeTiming;
  return performance.timeOrigin + (runtimeName === "node" ? node!.environment : 0);
}

sam.initialize(0, sam.RecoveryPolicy.RESTART);
await sam.register();
const size = sam.dataGetsize();
const record: Record = size === 0
  ? { crashedAt: null, entries: [] }
  : JSON.parse(new TextDecoder().decode(sam.dataRestore()));
record.entries.push({ workerStarted: workerStarted(), previousCrashed: record.crashedAt });
const save = () => sam.dataStore(new TextEncoder().encode(JSON.stringify(record)));
if (record.entries.length === 3) {
  save(); // not started: this end ends supervision
} else {
  await sam.start();
  // A run of 300 ms, as an application runs before it fails; the supervisor spawns the
  // standby 20 ms after register().
  await new Promise((resolve) => setTimeout(resolve, 300));
  record.crashedAt = performance.timeOrigin + performance.now();
  save();
  throw new Error("crash on purpose");
}
