// Starts writer threads (rel_store_loop.ts) on a data region and follows them: activation
// through shared memory, the value each one restored, its report words, and the end of its
// thread. Used by the cut-off lanes and directly by the fault-injection tests.
import { Buffer } from "node:buffer";
import { existsSync } from "node:fs";
import { MessageChannel, Worker } from "node:worker_threads";
import type { DataRegionHandles } from "../../shared_memory/region.ts";
import { C, CONTROL_BYTES } from "./rel_pattern.ts";

const LOOP = new URL("./rel_store_loop.ts", import.meta.url);

/** What a writer does once activated; see rel_store_loop.ts. */
export interface Activation {
  id: number;
  handles: DataRegionHandles;
  maxSize: number;
  mode?: "store" | "hold-lock";
  /** store: the random sizes' seed, or exactly these sizes (then it waits to be terminated). */
  seed?: number;
  sizes?: number[];
  /** store: end at the first refused store instead of trying again. */
  untilRefused?: boolean;
  /** hold-lock: the value's length, and whether its length word is written already. */
  length?: number;
  lengthWritten?: boolean;
  /**
   * hold-lock: instead of waiting to be terminated, wait for `C.GO_ON` and then finish the
   * store as store() does: write the length word, copy the rest, publish.
   */
  goOn?: boolean;
}

/** Buffers a writer shares with its driver: reused writer after writer. */
export interface WriterBuffers {
  /** Report words (C in rel_pattern.ts). */
  ctl: Int32Array;
  /** Where a writer builds the values it stores. */
  scratch: SharedArrayBuffer;
  /** Where a writer restores into; the driver reads the restored value there. */
  restoreInto: SharedArrayBuffer;
}

export function writerBuffers(maxSize: number): WriterBuffers {
  return {
    ctl: new Int32Array(new SharedArrayBuffer(CONTROL_BYTES)),
    scratch: new SharedArrayBuffer(maxSize),
    restoreInto: new SharedArrayBuffer(maxSize),
  };
}

export interface Writer {
  worker: Worker;
  /** Resolves once the writer waits for its activation, its modules loaded. */
  ready(): Promise<number>;
  /** A view of the value the writer restored first. */
  restored: Promise<Uint8Array>;
  /** hold-lock: resolves once the writer holds the lock, mid-copy. */
  holding: Promise<void>;
  /** store with untilRefused: resolves with the error code of the refused store. */
  refused: Promise<number>;
  /** hold-lock with goOn: resolves with whether its publishing compare-exchange succeeded. */
  finished: Promise<boolean>;
  activate(activation: Activation): void;
  /** Resolves once the writer's thread is gone, not only reported ended. */
  gone(limitMs?: number): Promise<void>;
}

export function spawnWriter(buffers: WriterBuffers): Writer {
  const gate = new Int32Array(new SharedArrayBuffer(8));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(LOOP, {
    workerData: {
      ctl: buffers.ctl.buffer,
      gate: gate.buffer,
      port: port2,
      scratch: buffers.scratch,
      restoreInto: buffers.restoreInto,
    },
    transferList: [port2],
  });
  const exited = new Promise<number>((resolve) => worker.once("exit", resolve));
  const on = <T>(type: string, value: (m: Record<string, number>) => T): Promise<T> => {
    const promise = new Promise<T>((resolve, reject) => {
      worker.on("message", (m) => m.type === type && resolve(value(m)));
      worker.on("error", reject);
      exited.then((code) => reject(new Error(`the writer ended with ${code} before "${type}"`)));
    });
    // A writer that never gets there (a standby never activated, say) is no failure by itself.
    promise.catch(() => {});
    return promise;
  };
  return {
    worker,
    restored: on("restored", (m) => new Uint8Array(buffers.restoreInto, 0, m.length)),
    holding: on("holding", () => undefined),
    refused: on("refused", (m) => m.code),
    finished: on("finished", (m) => m.published === 1),
    ready: () => changed(gate, 1, 0),
    activate(activation) {
      port1.postMessage(activation);
      port1.close();
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
    },
    async gone(limitMs = 10_000) {
      await exited;
      // On Deno "exit" comes while the thread may still finish the store it is in. No event
      // tells when a thread has ended: look in /proc, as the supervisor does.
      const tid = Atomics.load(gate, 1);
      for (const since = performance.now(); threadExists(tid);) {
        if (performance.now() - since > limitMs) throw new Error(`thread ${tid} still runs`);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    },
  };
}

/**
 * Resolves once `ctl[index]` differs from `from` (the main thread must not block: waitAsync),
 * with its new value; rejects after `limitMs`.
 */
export async function changed(
  ctl: Int32Array,
  index: number,
  from: number,
  limitMs = 10_000,
): Promise<number> {
  const until = performance.now() + limitMs;
  for (;;) {
    const value = Atomics.load(ctl, index);
    if (value !== from) return value;
    const left = until - performance.now();
    if (left <= 0) throw new Error(`control word ${index} stayed ${from} for ${limitMs} ms`);
    const result = Atomics.waitAsync(ctl, index, from, left);
    if (result.async) await result.value;
  }
}

/** Resolves once `ctl[index]` is at least `target`. */
export async function reached(
  ctl: Int32Array,
  index: number,
  target: number,
  limitMs = 10_000,
): Promise<void> {
  const until = performance.now() + limitMs;
  for (let value = Atomics.load(ctl, index); value < target; value = Atomics.load(ctl, index)) {
    await changed(ctl, index, value, Math.max(1, until - performance.now()));
  }
}

export { C };

/** Whether two byte arrays are equal, byte for byte (memcmp: fast enough for 16 MiB). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength &&
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    );
}

/** Whether thread `tid` of this process still exists. */
export function threadExists(tid: number): boolean {
  return tid > 0 && existsSync(`/proc/self/task/${tid}`);
}
