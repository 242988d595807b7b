// A program for the pre-run standby, under supervise() or in the libsam style. Before
// register() it notes when that code ran, reads the stored data's size with SAM_PRERUN_READ=1
// (a replayed read) and prints a line; after it, each instance reports what it saw, runs a
// while (time for the standby to get ready), stores new data (which outdates a standby's
// replayed read) and crashes, until the third one ends. SAM_PRERUN_MODE: "throw" or
// "no-register" make a standby's pre-run fail that way.
import process from "node:process";
import { isMainThread, workerData } from "node:worker_threads";
import * as sam from "../../mod.ts";

const clock = () => performance.timeOrigin + performance.now();
const ranAt = clock();
const mode = process.env.SAM_PRERUN_MODE ?? "";
const standby = !isMainThread && workerData?.prerun === true;
sam.initialize(0, sam.RecoveryPolicy.RESTART);
const sizeSeen = process.env.SAM_PRERUN_READ === "1" ? sam.dataGetsize() : -1;
console.log(`before register in ${isMainThread ? "the main thread" : "a Worker"}`);
if (standby && mode === "throw") throw new Error("the pre-run fails");
if (!(standby && mode === "no-register")) {
  const iid = await sam.register();
  const saved = sam.dataRestore();
  const crashedAt = saved.length >= 8 ? new Float64Array(saved.slice(0, 8).buffer)[0] : 0;
  console.log(
    `iid ${iid} ran before the crash ${ranAt < crashedAt} saw ${sizeSeen} restores ${saved.length}`,
  );
  if (iid < 3) {
    await sam.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    console.log(`iid ${iid} last line`);
    const next = new Uint8Array(8 + iid);
    new Float64Array(next.buffer, 0, 1)[0] = clock();
    sam.dataStore(next);
    throw new Error(`crash ${iid}`);
  }
}
