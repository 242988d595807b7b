// A real thread that stores into a data region as instance 1 until it is fenced off.
import { parentPort, workerData } from "node:worker_threads";
import { DataRegion } from "../../shared_memory/region.ts";
import type { SamError } from "../../errors.ts";

const region = new DataRegion(workerData.region);
const size = workerData.size as number;
let stores = 0;
for (let value = 1;; value = (value % 250) + 1) {
  try {
    region.store(1, new Uint8Array(size).fill(value));
    stores++;
    if (stores === 3) parentPort!.postMessage({ type: "storing" });
  } catch (e) {
    parentPort!.postMessage({ type: "fenced", code: (e as SamError).code, stores });
    break;
  }
}
