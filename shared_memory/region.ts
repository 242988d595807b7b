// The stored data: a header and two slots in SharedArrayBuffers, shared by the supervisor
// and its instances; what both sides do with it. Every operation is a lock-protected copy (the
// words and their sequences are in data_protocol.ts); what only the supervisor does (admit,
// fence, move to new memory) is in supervisor/region_keeper.ts.
import { DATA_HEADER_BYTES, SLOT_GROW_STEP, SUPERVISOR_HOLDER } from "./layout.ts";
import {
  announceStore,
  corrupt,
  currentSlot,
  lockData,
  lockHolder,
  mayAct,
  openHeader,
  readPoint,
  setLength,
  storedLength,
  unchangedSince,
  unlockData,
} from "./data_protocol.ts";
import { SLOT_BIT } from "./layout.ts";
import { CsError, SamError } from "../errors.ts";

/** What a thread needs to attach to a data region; plain data, so it can be posted. */
export interface DataRegionHandles {
  header: SharedArrayBuffer;
  slots: SharedArrayBuffer[];
  maxDataSize: number;
}

/** Default limit of the stored data: 64 MiB (libsam has none; this bounds shared memory). */
export const DEFAULT_MAX_DATA_SIZE = 64 * 1024 * 1024;

/** How many optimistic copies snapshot() tries before it takes the lock. */
const SNAPSHOT_ATTEMPTS = 100;

/** An empty growable slot for data of at most `maxDataSize` bytes. */
export function newSlot(maxDataSize: number): SharedArrayBuffer {
  return new SharedArrayBuffer(0, { maxByteLength: maxDataSize });
}

/** A header (not yet valid: see openHeader()) and two empty slots. */
export function newHandles(maxDataSize: number): DataRegionHandles {
  return {
    header: new SharedArrayBuffer(DATA_HEADER_BYTES),
    slots: [newSlot(maxDataSize), newSlot(maxDataSize)],
    maxDataSize,
  };
}

/**
 * Grows `slot` to hold `length` bytes, in steps, so that small growing stores do not grow it
 * every time.
 *
 * @throws {SamError} `CS_ERR_NO_MEMORY` when the memory cannot be had.
 */
export function growSlot(slot: SharedArrayBuffer, length: number, maxDataSize: number): void {
  if (slot.byteLength >= length) return;
  const size = Math.min(maxDataSize, Math.ceil(length / SLOT_GROW_STEP) * SLOT_GROW_STEP);
  try {
    slot.grow(size);
  } catch (e) {
    throw new SamError(
      CsError.CS_ERR_NO_MEMORY,
      `cannot grow the data slot to ${size} bytes: ${e}`,
    );
  }
}

/**
 * Where a restore of `length` bytes goes: `into` (checked to hold them) or a new array.
 *
 * @throws {SamError} `CS_ERR_INVALID_PARAM` when `into` is too small.
 */
export function restoreTarget(into: Uint8Array | undefined, length: number): Uint8Array {
  if (into === undefined) return new Uint8Array(length);
  if (into.byteLength < length) {
    throw new SamError(
      CsError.CS_ERR_INVALID_PARAM,
      `into holds ${into.byteLength} bytes, less than the ${length} stored`,
    );
  }
  return into.subarray(0, length);
}

/** The stored data as a thread attached to it sees it. */
export class DataRegion {
  #header: Int32Array;
  readonly maxDataSize: number;
  #slots: SharedArrayBuffer[];

  constructor(handles: DataRegionHandles) {
    this.#header = new Int32Array(handles.header);
    this.#slots = handles.slots.slice();
    this.maxDataSize = handles.maxDataSize;
  }

  /** A new, empty region for data of at most `maxDataSize` bytes. */
  static create(maxDataSize: number): DataRegion {
    const region = new DataRegion(newHandles(maxDataSize));
    openHeader(region.header, 0);
    return region;
  }

  /** The header's Int32 words (see layout.ts). */
  get header(): Int32Array {
    return this.#header;
  }

  /** What another thread attaches with. */
  get handles(): DataRegionHandles {
    return {
      header: this.#header.buffer as SharedArrayBuffer,
      slots: this.#slots.slice(),
      maxDataSize: this.maxDataSize,
    };
  }

  /**
   * Moves this view to another header and slots: only the supervisor's region keeper does,
   * so that everyone holding this region follows the value where it moves.
   */
  moveTo(header: Int32Array, slots: SharedArrayBuffer[]): void {
    this.#header = header;
    this.#slots = slots;
  }

  #acquire(holder: number, canWait: boolean): number {
    const h = this.#header;
    const locked = lockData(h, holder, canWait);
    if (locked === -1) {
      throw new SamError(
        CsError.CS_ERR_TRY_AGAIN,
        `the stored data is locked by instance ${lockHolder(h)}`,
      );
    }
    if (!mayAct(h, holder)) {
      unlockData(h, locked, locked & SLOT_BIT);
      throw new SamError(
        CsError.CS_ERR_BAD_HANDLE,
        `instance ${holder} was given up by its supervisor`,
      );
    }
    return locked;
  }

  /** Length of the current value, checked against the slot it claims to be in. */
  #currentLength(locked: number): number {
    const slot = currentSlot(locked);
    const length = storedLength(this.#header, slot);
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
      const target = currentSlot(locked) ? 0 : 1;
      if (length > 0) growSlot(this.#slots[target], length, this.maxDataSize);
      // Written under the lock; a writer fenced meanwhile writes it into a header that the
      // supervisor has left behind.
      setLength(this.#header, target, length);
      if (length > 0) new Uint8Array(this.#slots[target], 0, length).set(bytes!);
      announceStore(this.#header);
      // Publish: flip the current slot and release the lock in one step. It fails only when
      // the supervisor fenced this holder meanwhile; then the old value stays current.
      published = unlockData(this.#header, locked, target ? SLOT_BIT : 0);
      if (!published) {
        throw new SamError(
          CsError.CS_ERR_BAD_HANDLE,
          `instance ${holder} was given up by its supervisor during the store`,
        );
      }
    } finally {
      if (!published) unlockData(this.#header, locked, locked & SLOT_BIT);
    }
  }

  /** Size of the stored value in bytes. */
  size(holder: number, canWait = true): number {
    const locked = this.#acquire(holder, canWait);
    try {
      return this.#currentLength(locked);
    } finally {
      unlockData(this.#header, locked, locked & SLOT_BIT);
    }
  }

  /** Copies the stored value into `into` (when given) or into a new array. */
  restore(holder: number, into?: Uint8Array, canWait = true): Uint8Array {
    const locked = this.#acquire(holder, canWait);
    try {
      const length = this.#currentLength(locked);
      const out = restoreTarget(into, length);
      if (length > 0) out.set(new Uint8Array(this.#slots[currentSlot(locked)], 0, length));
      return out;
    } finally {
      unlockData(this.#header, locked, locked & SLOT_BIT);
    }
  }

  /**
   * A copy of the stored value without taking the lock: it copies the current slot and keeps
   * the copy only if no store published meanwhile (a store only ever writes the slot that is
   * not current, so until one publishes, the current slot is still). The main thread never
   * waits for an instance this way, even one that holds the lock and gets no CPU; nor does a
   * standby, which may not take the lock. Falls back to the lock when stores keep publishing
   * faster than it copies.
   */
  snapshot(): Uint8Array {
    const h = this.#header;
    for (let attempt = 0; attempt < SNAPSHOT_ATTEMPTS; attempt++) {
      const point = readPoint(h);
      const slot = currentSlot(point.word);
      const length = storedLength(h, slot);
      const source = this.#slots[slot];
      if (length < 0 || length > source.byteLength) continue;
      const copy = new Uint8Array(length);
      copy.set(new Uint8Array(source, 0, length));
      if (unchangedSince(h, point)) return copy;
    }
    return this.restore(SUPERVISOR_HOLDER, undefined, false);
  }
}
