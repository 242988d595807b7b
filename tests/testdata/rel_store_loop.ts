// A real thread that acts as one instance on a data region, driven directly (no supervisor).
// Once activated it restores what is stored and posts it, then, by `mode`:
// - "store": stores patterned values (rel_pattern.ts) of random sizes in a loop, or of the
//   given `sizes` and then waits to be terminated, reporting each one in the control block. It
//   yields to the event loop between stores, so that Worker.terminate() stops it on Deno too
//   (a Worker in a pure busy loop keeps spinning there). With `untilRefused` it ends at the
//   first refused store; otherwise it keeps trying, as a thread that was given up may.
// - "hold-lock": takes the lock and copies half of a value into the slot that is not current,
//   as store() does, then waits to be terminated: a thread that dies in the middle of a store,
//   at a point of the test's choosing. With `goOn` it finishes that store when told to.
//
// It is activated through shared memory: it waits in Atomics.wait on `gate[0]`, then takes the
// activation from `port` synchronously (a notify is immediate where a message may be late: one
// posted by a Worker to a Worker it created arrives ~500 ms later on Deno 2.9.6). It never
// waits in Atomics.wait for long: Deno 2.9.6 does not stop a terminated thread asleep there
// (nor one in a busy loop), only one that comes back to its event loop. It puts its Linux
// thread id in `gate[1]`, so that whoever terminates it can tell when the thread is really
// gone: on Deno the "exit" event comes while a terminated thread may still finish its store.
import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import { DataRegion } from "../../shared_memory/region.ts";
import { DATA_CONTROL, DATA_LENGTH_0, HOLDER_MASK, SLOT_BIT } from "../../shared_memory/layout.ts";
import type { SamError } from "../../errors.ts";
import { C, pattern, random, randomSize } from "./rel_pattern.ts";
import type { Activation } from "./rel_writers.ts";

const ctl = new Int32Array(workerData.ctl as SharedArrayBuffer);
// Buffers of the lane, reused by writer after writer so that no new memory is faulted in: one
// the value to store is built in, one the restore is copied into.
const scratch = new Uint8Array(workerData.scratch as SharedArrayBuffer);
const restoreInto = new Uint8Array(workerData.restoreInto as SharedArrayBuffer);
const gate = new Int32Array(workerData.gate as SharedArrayBuffer);
const port = workerData.port as MessagePort;
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

// Deno.readLinkSync where there is one: loading node:fs costs a Deno Worker ~10 ms of CPU.
const deno = (globalThis as { Deno?: { readLinkSync(path: string): string } }).Deno;
const link = deno
  ? deno.readLinkSync("/proc/thread-self")
  : (await import("node:fs")).readlinkSync("/proc/thread-self");
Atomics.store(gate, 1, Number(link.slice(link.lastIndexOf("/") + 1)));
Atomics.notify(gate, 1);
await waitUntil(() => Atomics.load(gate, 0) !== 0, gate);
const activation = receiveMessageOnPort(port)!.message as Activation;
port.close();
const region = new DataRegion(activation.handles);
const restored = region.restore(activation.id, restoreInto);
parentPort!.postMessage({ type: "restored", length: restored.byteLength });
if (activation.mode === "hold-lock") await holdLock(activation);
else await storeLoop(activation);

async function storeLoop(a: Activation): Promise<void> {
  const next = random(a.seed ?? 1);
  for (let n = 0;; n++) {
    if (a.sizes !== undefined && n === a.sizes.length) return waitUntil(() => false);
    const seq = Atomics.add(ctl, C.NEXT, 1) + 1;
    const length = a.sizes?.[n] ?? randomSize(next, a.maxSize);
    const value = pattern(seq, length, scratch);
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
}

async function holdLock(a: Activation): Promise<void> {
  const h = region.header;
  let locked = 0;
  for (;;) {
    const word = Atomics.load(h, DATA_CONTROL);
    if ((word & HOLDER_MASK) !== 0) {
      await waitUntil(() => Atomics.load(h, DATA_CONTROL) !== word);
      continue;
    }
    locked = (word & SLOT_BIT) | a.id;
    if (Atomics.compareExchange(h, DATA_CONTROL, word, locked) === word) break;
  }
  const target = (locked & SLOT_BIT) ? 0 : 1;
  const slot = a.handles.slots[target];
  const length = a.length!;
  if (slot.byteLength < length) slot.grow(length);
  const seq = Atomics.add(ctl, C.NEXT, 1) + 1;
  new Uint8Array(slot, 0, length >> 1).set(pattern(seq, length).subarray(0, length >> 1));
  if (a.lengthWritten) Atomics.store(h, DATA_LENGTH_0 + target, length);
  parentPort!.postMessage({ type: "holding", seq });
  if (!a.goOn) return waitUntil(() => false);
  // A thread that was held up (descheduled) in the middle of store() and now goes on: it
  // writes the length word and the rest of the value, and tries to publish.
  await waitUntil(() => Atomics.load(ctl, C.GO_ON) !== 0);
  Atomics.store(h, DATA_LENGTH_0 + target, length);
  new Uint8Array(slot, 0, length).set(pattern(seq, length));
  const next = target ? SLOT_BIT : 0;
  const published = Atomics.compareExchange(h, DATA_CONTROL, locked, next) === locked;
  parentPort!.postMessage({ type: "finished", published: published ? 1 : 0 });
  return waitUntil(() => false);
}

/**
 * Waits until `ready()`: in Atomics.wait on `word[0]` (woken at once by a notify), back to the
 * event loop every 20 ms, where Deno can stop a terminated thread.
 */
async function waitUntil(
  ready: () => boolean,
  word = new Int32Array(new SharedArrayBuffer(4)),
): Promise<void> {
  while (!ready()) {
    Atomics.wait(word, 0, 0, 20);
    await tick();
  }
}
