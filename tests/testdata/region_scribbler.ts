// A real thread that writes garbage straight into a data region's header and slots, around
// the lock, as a hostile or broken instance could; it starts when told and reports each pass.
import { parentPort, workerData } from "node:worker_threads";

const { header, slots } = workerData.region as {
  header: SharedArrayBuffer;
  slots: SharedArrayBuffer[];
};
const views = [new Uint8Array(header), ...slots.map((s) => new Uint8Array(s))];
parentPort!.once("message", async () => {
  for (let pass = 1;; pass++) {
    for (const view of views) view.fill(pass & 0xff);
    parentPort!.postMessage(pass);
    await new Promise((r) => setImmediate(r));
  }
});
parentPort!.postMessage(0);
