// Writes a libsam-like record in corosync's cmap, reads it back, and deletes it, a step at a
// time: the test dumps cmap with corosync-cmapctl between steps ("next" on stdin).
import process from "node:process";
import { createInterface } from "node:readline";
import { readClockMonotonic } from "../../platform/clock.ts";
import { openCmap } from "../../corosync/cmap.ts";
import type { SamError } from "../../errors.ts";

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const next = async () => {
  const r = await lines.next();
  if (r.done || r.value !== "next") throw new Error(`expected "next", got ${r.value}`);
};

const prefix = `resources.process.${process.pid}.`;
const cmap = openCmap();
const stamp = readClockMonotonic();
cmap.setString(prefix + "recovery", "quit");
cmap.setUint64(prefix + "poll_period", 2000n);
cmap.setUint64(prefix + "last_updated", stamp);
cmap.setString(prefix + "state", "running");
console.log(`written ${process.pid} ${stamp}`);
await next();
console.log(
  "read " + JSON.stringify({
    recovery: cmap.getString(prefix + "recovery"),
    poll_period: String(cmap.getUint64(prefix + "poll_period")),
    last_updated_same: cmap.getUint64(prefix + "last_updated") === stamp,
    state: cmap.getString(prefix + "state"),
    missing: cmap.getString(prefix + "nope") ?? null,
    keys: cmap.keys(prefix),
  }),
);
cmap.setString(prefix + "state", "stopped");
cmap.delete(prefix + "recovery");
try {
  cmap.delete(prefix + "recovery");
} catch (e) {
  console.log(`delete again ${(e as SamError).code} ${(e as Error).message}`);
}
try {
  cmap.getString(prefix + "poll_period");
} catch (e) {
  console.log(`getString of a u64 ${(e as SamError).code}`);
}
console.log(`deletePrefix ${cmap.deletePrefix(prefix)} left ${cmap.keys(prefix).length}`);
await next();
cmap.close();
try {
  cmap.setString(prefix + "state", "x");
} catch (e) {
  console.log(`after close ${(e as SamError).code}`);
}
process.exit(0);
