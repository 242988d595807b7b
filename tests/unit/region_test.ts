import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import type { DataRegion } from "../../shared_memory/region.ts";
import { readIntact } from "../../shared_memory/data_protocol.ts";
import { RegionKeeper } from "../../supervisor/region_keeper.ts";
import {
  DATA_CONTROL,
  DATA_LENGTH_0,
  DATA_MAGIC,
  SUPERVISOR_HOLDER,
} from "../../shared_memory/layout.ts";
import { CsError } from "../../errors.ts";

const MiB = 1024 * 1024;

/** Whether the header is intact, as the supervisor checks before it trusts it. */
function intact(region: DataRegion, maxHolder: number): boolean {
  const { slots } = region.handles;
  const capacity = (slot: number) => slots[slot].byteLength;
  return readIntact(region.header, maxHolder, capacity, region.maxDataSize) !== null;
}

function uniform(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === bytes[0]);
}

function once(worker: Worker, type: string): Promise<Record<string, number>> {
  return new Promise((resolve) => {
    const on = (m: Record<string, number> & { type: string }) => {
      if (m.type !== type) return;
      worker.off("message", on);
      resolve(m);
    };
    worker.on("message", on);
  });
}

test("fence() keeps a thread that was given up from publishing, even mid-copy", async () => {
  const keeper = RegionKeeper.create(64 * MiB);
  const region = keeper.region;
  region.store(SUPERVISOR_HOLDER, new Uint8Array(16 * MiB).fill(0));
  keeper.admit(1);
  const worker = new Worker(new URL("../testdata/region_writer.ts", import.meta.url), {
    workerData: { region: region.handles, size: 16 * MiB },
  });
  try {
    await once(worker, "storing");
    const fenced = once(worker, "fenced");
    keeper.fence(1);
    const atFence = region.restore(SUPERVISOR_HOLDER, undefined, false);
    assert.ok(uniform(atFence), "the value at the fence is one whole store");
    const { code, stores } = await fenced;
    assert.equal(code, CsError.CS_ERR_BAD_HANDLE);
    assert.ok(stores >= 3);
    const after = region.restore(SUPERVISOR_HOLDER, undefined, false);
    assert.deepEqual(after, atFence, "nothing landed after the fence");
  } finally {
    await worker.terminate();
  }
});

test("store() keeps the previous value whole when the copy is cut off before publishing", () => {
  const keeper = RegionKeeper.create(MiB);
  const region = keeper.region;
  region.store(SUPERVISOR_HOLDER, new Uint8Array(1000).fill(7));
  // A store by instance 1 cut off mid-copy: it took the lock and wrote half of the other
  // slot, then its thread died. The supervisor fences it and takes the lock back.
  keeper.admit(1);
  const h = region.header;
  const word = Atomics.load(h, DATA_CONTROL);
  Atomics.store(h, DATA_CONTROL, word | 1);
  keeper.fence(1);
  const back = region.restore(SUPERVISOR_HOLDER, undefined, false);
  assert.equal(back.length, 1000);
  assert.ok(back.every((b) => b === 7));
});

test("store() refuses data above maxDataSize with CS_ERR_NO_MEMORY and keeps the old value", () => {
  const keeper = RegionKeeper.create(100);
  const region = keeper.region;
  region.store(SUPERVISOR_HOLDER, new Uint8Array([1, 2, 3]));
  assert.throws(() => region.store(SUPERVISOR_HOLDER, new Uint8Array(101)), {
    code: CsError.CS_ERR_NO_MEMORY,
  });
  assert.deepEqual(region.restore(SUPERVISOR_HOLDER, undefined, false), new Uint8Array([1, 2, 3]));
});

test("readIntact() finds a header overwritten with random values, and reset() empties the region", () => {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) | 0;
  let caught = 0;
  for (let round = 0; round < 200; round++) {
    const keeper = RegionKeeper.create(4096);
    const region = keeper.region;
    region.store(SUPERVISOR_HOLDER, new Uint8Array(10).fill(1));
    for (let i = 0; i < region.header.length; i++) region.header[i] = random();
    if (!intact(region, 5)) {
      caught++;
      keeper.reset();
      assert.equal(region.size(SUPERVISOR_HOLDER, false), 0);
    } else {
      // Whatever passes the check must still be read within bounds.
      const length = Atomics.load(
        region.header,
        DATA_LENGTH_0 + ((Atomics.load(region.header, DATA_CONTROL) >> 30) & 1),
      );
      assert.ok(length >= 0 && length <= 4096);
    }
  }
  assert.ok(caught >= 190, `only ${caught} of 200 corrupt headers found`);
  assert.equal(DATA_MAGIC, 0);
});

test("store() keeps at most twice the stored size in shared memory, plus the header", () => {
  const keeper = RegionKeeper.create(64 * MiB);
  const region = keeper.region;
  const sixteen = new Uint8Array(16 * MiB).fill(3);
  region.store(SUPERVISOR_HOLDER, sixteen);
  region.store(SUPERVISOR_HOLDER, sixteen);
  region.store(SUPERVISOR_HOLDER, new Uint8Array(100));
  const { header, slots } = region.handles;
  const slotBytes = slots.reduce((sum, sab) => sum + sab.byteLength, 0);
  assert.ok(slotBytes <= 2 * 16 * MiB, `the slots hold ${slotBytes} bytes`);
  assert.ok(header.byteLength <= 64);
  assert.deepEqual(region.restore(SUPERVISOR_HOLDER, undefined, false), new Uint8Array(100));
});

function scribbler(region: DataRegion): { worker: Worker; passes: (n: number) => Promise<void> } {
  const worker = new Worker(new URL("../testdata/region_scribbler.ts", import.meta.url), {
    workerData: { region: region.handles },
  });
  const passes = (n: number) =>
    new Promise<void>((resolve) => {
      const on = (pass: number) => {
        if (pass < n) return;
        worker.off("message", on);
        resolve();
      };
      worker.on("message", on);
    });
  return { worker, passes };
}

test("rehome() keeps direct writes of a thread that was given up from the next instance", async () => {
  const keeper = RegionKeeper.create(MiB);
  const region = keeper.region;
  const value = new Uint8Array(4096).fill(42);
  region.store(SUPERVISOR_HOLDER, value);
  const { worker, passes } = scribbler(region);
  try {
    await passes(0);
    assert.equal(keeper.rehome(1), true);
    worker.postMessage("go");
    await passes(5);
    // Without the rehome, the scribbles would have broken the header by now.
    assert.ok(intact(region, 1));
    assert.deepEqual(region.restore(SUPERVISOR_HOLDER, undefined, false), value);
  } finally {
    await worker.terminate();
  }
});

test("rehome() of a header a thread is still scribbling on empties the region cleanly", async () => {
  const keeper = RegionKeeper.create(MiB);
  const region = keeper.region;
  region.store(SUPERVISOR_HOLDER, new Uint8Array(4096).fill(42));
  const { worker, passes } = scribbler(region);
  try {
    await passes(0);
    worker.postMessage("go");
    await passes(3);
    assert.equal(keeper.rehome(1), false);
    assert.ok(intact(region, 1));
    assert.equal(region.size(SUPERVISOR_HOLDER, false), 0);
  } finally {
    await worker.terminate();
  }
});

test("rehome() moves the value into the home nextHandles gave out ahead, which a Worker attached", async () => {
  const keeper = RegionKeeper.create(MiB);
  const region = keeper.region;
  const value = new Uint8Array(70_000).fill(9);
  region.store(SUPERVISOR_HOLDER, value);
  const next = keeper.nextHandles;
  assert.notEqual(next.header, region.handles.header);
  assert.equal(keeper.nextHandles.header, next.header, "the same home until a rehome takes it");
  // Attached before the value moves in, as a standby attaches it.
  const worker = new Worker(new URL("../testdata/region_reader.ts", import.meta.url), {
    workerData: { region: next },
  });
  try {
    await once(worker, "attached");
    assert.equal(keeper.rehome(1), true);
    assert.equal(region.handles.header, next.header);
    assert.deepEqual(region.handles.slots, next.slots);
    keeper.admit(1);
    const read = once(worker, "read");
    worker.postMessage("read");
    const { size, byte } = await read;
    assert.equal(size, value.byteLength);
    assert.equal(byte, 9);
    // The home after this one is a new one again.
    assert.notEqual(keeper.nextHandles.header, next.header);
  } finally {
    await worker.terminate();
  }
});

test("reset() empties the region into the home nextHandles gave out", () => {
  const keeper = RegionKeeper.create(MiB);
  const region = keeper.region;
  region.store(SUPERVISOR_HOLDER, new Uint8Array(100).fill(1));
  const next = keeper.nextHandles;
  keeper.reset();
  assert.equal(region.handles.header, next.header);
  assert.equal(region.size(SUPERVISOR_HOLDER, false), 0);
  assert.ok(intact(region, 0));
});
