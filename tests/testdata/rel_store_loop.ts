// A real thread that acts as one instance on a data region (driven directly, without a
// supervisor): once activated it restores what is stored, posts it, then stores patterned
// values of random sizes in a loop and reports each one in the control block (rel_pattern.ts).
// It yields to the event loop between stores, so that Worker.terminate() stops it on Deno too
// (a Worker in a pure busy loop keeps spinning there). `untilRefused` ends the loop at the
// first refused store; otherwise it keeps trying, as a thread that was given up may.
import { parentPort, workerData } from "node:worker_threads";
import { setImmediate } from "node:timers";
import { DataRegion, type DataRegionHandles } from "../../_region.ts";
import type { SamError } from "../../errors.ts";
import { C, pattern, random, randomSize } from "./rel_pattern.ts";

interface Activation {
  id: number;
  handles: DataRegionHandles;
  seed: number;
  maxSize: number;
  untilRefused: boolean;
  restoreFirst: boolean;
}

const ctl = new Int32Array(workerData.ctl as SharedArrayBuffer);
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

parentPort!.once("message", async (a: Activation) => {
  const region = new DataRegion(a.handles);
  if (a.restoreFirst) {
    const restored = region.restore(a.id);
    parentPort!.postMessage({ type: "restored", bytes: restored }, [restored.buffer]);
  }
  const next = random(a.seed);
  for (;;) {
    const seq = Atomics.add(ctl, C.NEXT, 1) + 1;
    const length = randomSize(next, a.maxSize);
    const value = pattern(seq, length);
    Atomics.store(ctl, C.ATTEMPT_LEN, length);
    Atomics.store(ctl, C.ATTEMPT, seq);
    Atomics.notify(ctl, C.ATTEMPT);
    try {
      region.store(a.id, value);
    } catch (e) {
      Atomics.store(ctl, C.REFUSED, seq);
      Atomics.add(ctl, C.REFUSALS, 1);
      Atomics.notify(ctl, C.REFUSALS);
      if (a.untilRefused) {
        parentPort!.postMessage({ type: "refused", code: (e as SamError).code, seq });
        return;
      }
      await tick();
      continue;
    }
    Atomics.store(ctl, C.DONE_LEN, length);
    Atomics.store(ctl, C.DONE, seq);
    Atomics.add(ctl, C.STORES, 1);
    Atomics.notify(ctl, C.STORES);
    await tick();
  }
});
