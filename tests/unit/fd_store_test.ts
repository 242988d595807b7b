// The stored data's copy for systemd's fd store: two slots, crash-consistent, over memory
// (the memfd itself is tested against a real systemd in systemd_test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { checksum, type SlotFile, SlotStore } from "../../systemd/fd_store.ts";

/** A file in memory; `cutAfter` bytes of the next write land, the rest never does. */
function memoryFile(): SlotFile & { bytes: Uint8Array; cutAfter: number | null } {
  const file = {
    bytes: new Uint8Array(1 << 16),
    cutAfter: null as number | null,
    pread(into: Uint8Array, position: number): number {
      into.set(file.bytes.subarray(position, position + into.length));
      return into.length;
    },
    pwrite(bytes: Uint8Array, position: number): number {
      const n = file.cutAfter ?? bytes.length;
      file.cutAfter = null;
      file.bytes.set(bytes.subarray(0, n), position);
      return n;
    },
  };
  return file;
}

const value = (n: number, length = 1000) => new Uint8Array(length).fill(n);

test("SlotStore reads back the latest value written, from a new SlotStore over the same file", () => {
  const file = memoryFile();
  const store = new SlotStore(file, 8192);
  assert.equal(store.read(), null);
  for (let n = 1; n <= 5; n++) assert.ok(store.write(value(n, 100 * n)));
  assert.deepEqual(new SlotStore(file, 8192).read(), value(5, 500));
  assert.ok(store.write(new Uint8Array(0)));
  assert.deepEqual(new SlotStore(file, 8192).read(), new Uint8Array(0));
});

test("SlotStore leaves the previous value whole when a copy is cut off anywhere, before or in its header", () => {
  for (let cut = 0; cut <= 1000; cut += 97) {
    const file = memoryFile();
    const store = new SlotStore(file, 8192);
    store.write(value(1));
    store.write(value(2));
    // Bytes cut off, header never written.
    file.cutAfter = cut;
    store.write(value(3), false);
    assert.deepEqual(new SlotStore(file, 8192).read(), value(2));
  }
  // Bytes whole but the header cut off, and bytes cut off under a whole header.
  for (const cut of [0, 8, 16, 24, 31]) {
    const file = memoryFile();
    const store = new SlotStore(file, 8192);
    store.write(value(1));
    const again = new SlotStore(file, 8192);
    again.read();
    file.bytes.set(value(7), 4096 * 2 + 0); // garbage where slot 1 would be
    file.cutAfter = null;
    assert.ok(again.write(value(2)));
    // Now cut the next write's header.
    const third = new SlotStore(file, 8192);
    third.read();
    const original = file.pwrite.bind(file);
    let writes = 0;
    file.pwrite = (
      bytes,
      position,
    ) => (++writes === 2 ? original(bytes.subarray(0, cut), position) : original(bytes, position));
    third.write(value(3));
    file.pwrite = original;
    assert.deepEqual(new SlotStore(file, 8192).read(), value(2), `header cut at ${cut}`);
  }
});

test("checksum() tells bytes apart", () => {
  assert.notEqual(checksum(value(1)), checksum(value(2)));
  assert.equal(checksum(value(1)), checksum(value(1)));
});
