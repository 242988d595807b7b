// Attaches a data region ahead (as a standby does) and reads it as instance 1 when asked.
import { parentPort, workerData } from "node:worker_threads";
import { DataRegion } from "../../shared_memory/region.ts";

const region = new DataRegion(workerData.region);
parentPort!.postMessage({ type: "attached" });
parentPort!.on("message", () => {
  const bytes = region.restore(1);
  parentPort!.postMessage({ type: "read", size: bytes.byteLength, byte: bytes[bytes.length - 1] });
});
