// The stored data: a header and two slots in SharedArrayBuffers, shared by the supervisor
// and its instances. Every operation is a lock-protected copy; see _layout.ts for the words.
import {
  DATA_CONTROL,
  DATA_EPOCH,
  DATA_GEN,
  DATA_HEADER_BYTES,
  DATA_LENGTH_0,
  DATA_MAGIC,
  DATA_MAGIC_VALUE,
  HOLDER_MASK,
  SLOT_BIT,
  SLOT_GROW_STEP,
  SUPERVISOR_HOLDER,
} from "./layout.ts";
import { CsError, SamError } from "../errors.ts";

/** What a thread needs to attach to a data region; plain data, so it can be posted. */
export interface DataRegionHandles {
  header: SharedArrayBuffer;
  slots: SharedArrayBuffer[];
  maxDataSize: number;
}

/** Default limit of the stored data: 64 MiB (libsam has none; this bounds shared memory). */
export const DEFAULT_MAX_DATA_SIZE = 64 * 1024 * 1024;

/** How long an instance waits on a held lock before it looks at the holder again. */
const LOCK_WAIT_MS = 5;
/** How many optimistic copies snapshot() tries before it takes the lock. */
const SNAPSHOT_ATTEMPTS = 100;
/** How long the supervisor spins for a lock an instance holds: longer than a 64 MiB store. */
const SUPERVISOR_SPIN_MS = 50;

function newSlot(maxDataSize: number): SharedArrayBuffer {
  return new SharedArrayBuffer(0, { maxByteLength: maxDataSize });
}

/** A header and two slots no instance has acted on, for the next rehome() or reset(). */
interface Home {
  header: SharedArrayBuffer;
  slots: SharedArrayBuffer[];
}

function newHome(maxDataSize: number): Home {
  return {
    header: new SharedArrayBuffer(DATA_HEADER_BYTES),
    slots: [newSlot(maxDataSize), newSlot(maxDataSize)],
  };
}

export class DataRegion {
  #header: Int32Array;
  readonly maxDataSize: number;
  #slots: SharedArrayBuffer[];
  #nextHome: Home | null = null;
  /** Stores published into the headers this region has left behind. */
  #storesBefore = 0;

  constructor(handles: DataRegionHandles) {
    this.#header = new Int32Array(handles.header);
    this.#slots = handles.slots.slice();
    this.maxDataSize = handles.maxDataSize;
  }

  /** The header's Int32 slots (see _layout.ts). */
  get header(): Int32Array {
    return this.#header;
  }

  /** A new, empty region for data of at most `maxDataSize` bytes. */
  static create(maxDataSize: number): DataRegion {
    const region = new DataRegion({
      header: new SharedArrayBuffer(DATA_HEADER_BYTES),
      slots: [newSlot(maxDataSize), newSlot(maxDataSize)],
      maxDataSize,
    });
    // Publish the magic last: the header is valid from here on.
    Atomics.store(region.header, DATA_MAGIC, DATA_MAGIC_VALUE);
    return region;
  }

  get handles(): DataRegionHandles {
    return {
      header: this.#header.buffer as SharedArrayBuffer,
      slots: this.#slots.slice(),
      maxDataSize: this.maxDataSize,
    };
  }

  /**
   * Handles of the header and slots that the next rehome() or reset() moves the value into.
   * A standby Worker attaches them ahead, so that its activation needs no message, and the
   * allocation is off a recovery's path. The standby does not touch them before it is
   * activated, so for whatever instance it becomes they are as new.
   */
  get nextHandles(): DataRegionHandles {
    this.#nextHome ??= newHome(this.maxDataSize);
    return {
      header: this.#nextHome.header,
      slots: this.#nextHome.slots.slice(),
      maxDataSize: this.maxDataSize,
    };
  }

  /**
   * Takes the lock for `holder`. Instances wait (Atomics.wait is allowed in a Worker); the
   * supervisor passes `canWait = false` and gets -1 instead of blocking its event loop.
   * Returns the locked control word.
   */
  #lock(holder: number, canWait: boolean): number {
    const h = this.#header;
    let spinUntil: number | undefined;
    for (;;) {
      const word = Atomics.load(h, DATA_CONTROL);
      const owner = word & HOLDER_MASK;
      if (word < 0) throw corrupt(`DATA_CONTROL ${word}`);
      if (owner === 0) {
        const locked = (word & SLOT_BIT) | holder;
        if (Atomics.compareExchange(h, DATA_CONTROL, word, locked) === word) return locked;
        continue;
      }
      if (
        owner !== SUPERVISOR_HOLDER && owner !== holder && owner !== Atomics.load(h, DATA_EPOCH)
      ) {
        // Held by an instance that was given up after the supervisor fenced it: it wrote
        // nothing (it checks the epoch first), so the lock can be taken back.
        Atomics.compareExchange(h, DATA_CONTROL, word, word & SLOT_BIT);
        continue;
      }
      if (!canWait) {
        // The main thread must not block in Atomics.wait: it spins for as long as a large
        // store takes at most, then gives up.
        spinUntil ??= performance.now() + SUPERVISOR_SPIN_MS;
        if (performance.now() > spinUntil) return -1;
        continue;
      }
      // "ok", "not-equal" and "timed-out" all mean: look at the word again.
      const result = Atomics.wait(h, DATA_CONTROL, word, LOCK_WAIT_MS);
      if (result !== "ok" && result !== "not-equal" && result !== "timed-out") {
        throw corrupt(`Atomics.wait returned ${result}`);
      }
    }
  }

  #unlock(locked: number, next: number): boolean {
    const ok = Atomics.compareExchange(this.#header, DATA_CONTROL, locked, next) === locked;
    // Published (or refused) above; wake any thread waiting for the lock.
    Atomics.notify(this.#header, DATA_CONTROL);
    return ok;
  }

  #acquire(holder: number, canWait: boolean): number {
    const locked = this.#lock(holder, canWait);
    if (locked === -1) {
      throw new SamError(
        CsError.CS_ERR_TRY_AGAIN,
        `the stored data is locked by instance ${
          Atomics.load(this.#header, DATA_CONTROL) & HOLDER_MASK
        }`,
      );
    }
    if (holder !== SUPERVISOR_HOLDER && Atomics.load(this.#header, DATA_EPOCH) !== holder) {
      this.#unlock(locked, locked & SLOT_BIT);
      throw new SamError(
        CsError.CS_ERR_BAD_HANDLE,
        `instance ${holder} was given up by its supervisor`,
      );
    }
    return locked;
  }

  /** Length of the current value, checked against the slot it claims to be in. */
  #currentLength(locked: number): number {
    const slot = (locked & SLOT_BIT) ? 1 : 0;
    const length = Atomics.load(this.#header, DATA_LENGTH_0 + slot);
    const capacity = this.#slots[slot].byteLength;
    if (length < 0 || length > capacity) {
      throw corrupt(`DATA_LENGTH_${slot} ${length} (slot holds ${capacity})`);
    }
    return length;
  }

  /** Throws CS_ERR_NO_MEMORY when `bytes` would not fit; what store() checks first. */
  checkFits(bytes: Uint8Array | null): void {
    const length = bytes === null ? 0 : bytes.byteLength;
    if (length > this.maxDataSize) {
      throw new SamError(
        CsError.CS_ERR_NO_MEMORY,
        `data of ${length} bytes is larger than maxDataSize ${this.maxDataSize}`,
      );
    }
  }

  /** Replaces the stored value with `bytes` (already validated), or deletes it. */
  store(holder: number, bytes: Uint8Array | null, canWait = true): void {
    this.checkFits(bytes);
    const length = bytes === null ? 0 : bytes.byteLength;
    const locked = this.#acquire(holder, canWait);
    let published = false;
    try {
      const target = (locked & SLOT_BIT) ? 0 : 1;
      if (bytes !== null && length > 0) {
        const sab = this.#slots[target];
        if (sab.byteLength < length) {
          const grown = Math.min(
            this.maxDataSize,
            Math.ceil(length / SLOT_GROW_STEP) * SLOT_GROW_STEP,
          );
          try {
            sab.grow(grown);
          } catch (e) {
            throw new SamError(
              CsError.CS_ERR_NO_MEMORY,
              `cannot grow the data slot to ${grown} bytes: ${e}`,
            );
          }
        }
      }
      // Written under the lock; a writer fenced meanwhile writes it into a header that
      // fence() has left behind.
      Atomics.store(this.#header, DATA_LENGTH_0 + target, length);
      if (bytes !== null && length > 0) new Uint8Array(this.#slots[target], 0, length).set(bytes);
      // Tell optimistic readers (snapshot()) that the current slot is about to change.
      Atomics.add(this.#header, DATA_GEN, 1);
      // Publish: flip the current slot and release the lock in one step. It fails only when
      // the supervisor fenced this holder meanwhile; then the old value stays current.
      published = this.#unlock(locked, target ? SLOT_BIT : 0);
      if (!published) {
        throw new SamError(
          CsError.CS_ERR_BAD_HANDLE,
          `instance ${holder} was given up by its supervisor during the store`,
        );
      }
    } finally {
      if (!published) this.#unlock(locked, locked & SLOT_BIT);
    }
  }

  /** Size of the stored value in bytes. */
  size(holder: number, canWait = true): number {
    const locked = this.#acquire(holder, canWait);
    try {
      return this.#currentLength(locked);
    } finally {
      this.#unlock(locked, locked & SLOT_BIT);
    }
  }

  /** Copies the stored value into `into` (when given) or into a new array. */
  restore(holder: number, into?: Uint8Array, canWait = true): Uint8Array {
    const locked = this.#acquire(holder, canWait);
    try {
      const length = this.#currentLength(locked);
      if (into !== undefined && into.byteLength < length) {
        throw new SamError(
          CsError.CS_ERR_INVALID_PARAM,
          `into holds ${into.byteLength} bytes, less than the ${length} stored`,
        );
      }
      const out = into === undefined ? new Uint8Array(length) : into.subarray(0, length);
      if (length > 0) out.set(new Uint8Array(this.#slots[(locked & SLOT_BIT) ? 1 : 0], 0, length));
      return out;
    } finally {
      this.#unlock(locked, locked & SLOT_BIT);
    }
  }

  /**
   * A copy of the stored value for the supervisor, without taking the lock: it copies the
   * current slot and keeps the copy only if no store published meanwhile (a store only ever
   * writes the slot that is not current, so until one publishes, the current slot is still).
   * The main thread never waits for an instance this way, even one that holds the lock and
   * gets no CPU. Falls back to the lock when stores keep publishing faster than it copies.
   */
  snapshot(): Uint8Array {
    const h = this.#header;
    for (let attempt = 0; attempt < SNAPSHOT_ATTEMPTS; attempt++) {
      const gen = Atomics.load(h, DATA_GEN);
      const word = Atomics.load(h, DATA_CONTROL);
      if (word < 0) throw corrupt(`DATA_CONTROL ${word}`);
      const slot = (word & SLOT_BIT) ? 1 : 0;
      const length = Atomics.load(h, DATA_LENGTH_0 + slot);
      const source = this.#slots[slot];
      if (length < 0 || length > source.byteLength) continue;
      const copy = new Uint8Array(length);
      copy.set(new Uint8Array(source, 0, length));
      const unchanged = Atomics.load(h, DATA_GEN) === gen &&
        ((Atomics.load(h, DATA_CONTROL) & SLOT_BIT) === (word & SLOT_BIT));
      if (unchanged) return copy;
    }
    return this.restore(SUPERVISOR_HOLDER, undefined, false);
  }

  /**
   * How many stores were ever published here: a standby's reads before its activation are
   * still true as long as this has not changed. (An instance can write the counter word; a
   * wrong count misleads only its own program's replayed reads.)
   */
  version(): number {
    return this.#storesBefore + Atomics.load(this.#header, DATA_GEN);
  }

  /** Lets `instanceId` act on the data (and no other instance). */
  admit(instanceId: number): void {
    Atomics.store(this.#header, DATA_EPOCH, instanceId);
  }

  /**
   * Fences `instanceId` after the supervisor gave it up: from now on none of its stores can
   * be published here. When it held the lock, it may be anywhere between taking the lock and
   * publishing: still to write the length word, or copying into the slot that is not current.
   * So the region moves on to a copy of the header and a fresh slot in place of that one, and
   * the instance is left with a header and a slot nobody reads again. (The supervisor then
   * rehomes the region as well, which also keeps out direct writes.)
   */
  fence(instanceId: number): void {
    const h = this.#header;
    Atomics.store(h, DATA_EPOCH, 0);
    for (;;) {
      const word = Atomics.load(h, DATA_CONTROL);
      if ((word & HOLDER_MASK) !== instanceId) return;
      // Freed here, so that its publishing compare-exchange fails.
      if (Atomics.compareExchange(h, DATA_CONTROL, word, word & SLOT_BIT) !== word) continue;
      const copy = new Int32Array(new SharedArrayBuffer(DATA_HEADER_BYTES));
      // The words as they are now, the magic too (a broken one stays broken); published last.
      for (let i = 0; i < copy.length; i++) if (i !== DATA_MAGIC) copy[i] = Atomics.load(h, i);
      Atomics.store(copy, DATA_MAGIC, Atomics.load(h, DATA_MAGIC));
      const inactive = (word & SLOT_BIT) ? 0 : 1;
      this.#slots[inactive] = newSlot(this.maxDataSize);
      this.#header = copy;
      // Anyone waiting for the lock on the old header wakes and finds the epoch closed.
      Atomics.notify(h, DATA_CONTROL);
      return;
    }
  }

  /**
   * Whether the header is intact: what the supervisor checks before it trusts anything an
   * instance may have written. `maxHolder` is the highest instance id that may hold the lock.
   */
  isIntact(maxHolder: number): boolean {
    return this.#intactValue(maxHolder) !== null;
  }

  /**
   * Where the current value is, when the header is intact; every word is read once, as an
   * instance given up may still be writing to them.
   */
  #intactValue(maxHolder: number): { slot: number; length: number } | null {
    const h = this.#header;
    if (Atomics.load(h, DATA_MAGIC) !== DATA_MAGIC_VALUE) return null;
    const word = Atomics.load(h, DATA_CONTROL);
    if (word < 0) return null;
    // When it looks, the supervisor holds no lock itself: its own operations release it
    // before they return. So its id there is a forgery, as is any id above the last instance.
    if ((word & HOLDER_MASK) > maxHolder) return null;
    const slot = (word & SLOT_BIT) ? 1 : 0;
    const length = Atomics.load(h, DATA_LENGTH_0 + slot);
    const intact = length >= 0 && length <= this.#slots[slot].byteLength &&
      length <= this.maxDataSize;
    return intact ? { slot, length } : null;
  }

  /**
   * Moves the stored value into a new header and new slots that no instance has seen yet, so
   * that nothing a given-up instance still does to the old ones (even one whose thread the
   * runtime could not stop, even one that writes to shared memory directly) reaches the next
   * instance. Costs one copy of the value. When the header is not intact (see isIntact()),
   * the new region is empty.
   *
   * @returns Whether the value was intact and carried over.
   */
  rehome(maxHolder: number): boolean {
    const value = this.#intactValue(maxHolder);
    if (value === null) {
      this.reset();
      return false;
    }
    const { slot, length } = value;
    const old = this.#slots[slot];
    const home = this.#takeHome();
    const fresh = home.slots[0];
    if (length > 0) {
      const size = Math.min(this.maxDataSize, Math.ceil(length / SLOT_GROW_STEP) * SLOT_GROW_STEP);
      if (fresh.byteLength < size) fresh.grow(size);
      new Uint8Array(fresh, 0, length).set(new Uint8Array(old, 0, length));
    }
    this.#moveInto(home, length);
    return true;
  }

  /** Empties the region into a new header and new slots: the recovery from a corrupt header. */
  reset(): void {
    this.#moveInto(this.#takeHome(), 0);
  }

  /** The prepared home, or a new one; either way the next rehome() gets another. */
  #takeHome(): Home {
    const home = this.#nextHome ?? newHome(this.maxDataSize);
    this.#nextHome = null;
    return home;
  }

  /** Makes `home` the region, with slot 0 current and holding `length` bytes. */
  #moveInto(home: Home, length: number): void {
    this.#storesBefore += Atomics.load(this.#header, DATA_GEN);
    // The old header tells anyone still using it that no one may act any more.
    Atomics.store(this.#header, DATA_EPOCH, 0);
    Atomics.notify(this.#header, DATA_CONTROL);
    const h = new Int32Array(home.header);
    Atomics.store(h, DATA_LENGTH_0, length);
    // Publish the magic last: the new header is valid from here on.
    Atomics.store(h, DATA_MAGIC, DATA_MAGIC_VALUE);
    this.#header = h;
    this.#slots = home.slots;
  }
}

function corrupt(what: string): SamError {
  return new SamError(CsError.CS_ERR_LIBRARY, `the shared data header is corrupt: ${what}`);
}
