// The protocol on a data header (words in layout.ts): every Atomics operation on one is here,
// as a named operation of the side that performs it; region.ts and the supervisor's
// region_keeper.ts build the stored data's operations from these.
//
// A store (an instance, or the supervisor), under the lock:
//   lock DATA_CONTROL for the holder; the holder must be DATA_EPOCH (the supervisor always may);
//   DATA_LENGTH_n = length, copy into slot n (the one not current); ++DATA_GEN;
//   one compareExchange makes slot n current and frees the lock; notify(DATA_CONTROL)
// A read takes the lock too, except the supervisor's snapshot: it copies the current slot and
// keeps the copy when neither DATA_GEN nor the current slot moved meanwhile.
// Fencing (the supervisor): DATA_EPOCH = 0, then a lock its holder still has is taken back.
import * as L from "./layout.ts";
import { waited } from "./protocol.ts";
import { CsError, SamError } from "../errors.ts";

/** How long an instance waits on a held lock before it looks at the holder again. */
const LOCK_WAIT_MS = 5;
/** How long the supervisor spins for a lock an instance holds: longer than a 64 MiB store. */
const SUPERVISOR_SPIN_MS = 50;

/** The error of a data header that says something impossible. */
export function corrupt(what: string): SamError {
  return new SamError(CsError.CS_ERR_LIBRARY, `the shared data header is corrupt: ${what}`);
}

/** The slot a control word names current. */
export function currentSlot(word: number): 0 | 1 {
  return (word & L.SLOT_BIT) ? 1 : 0;
}

// ---- Both sides ----

/**
 * Takes the lock for `holder`; returns the locked control word. Instances wait (Atomics.wait
 * is allowed in a Worker); the supervisor passes `canWait = false` and gets -1 instead of
 * blocking its event loop.
 */
export function lockData(h: Int32Array, holder: number, canWait: boolean): number {
  let spinUntil: number | undefined;
  for (;;) {
    const word = Atomics.load(h, L.DATA_CONTROL);
    const owner = word & L.HOLDER_MASK;
    if (word < 0) throw corrupt(`DATA_CONTROL ${word}`);
    if (owner === 0) {
      const locked = (word & L.SLOT_BIT) | holder;
      if (Atomics.compareExchange(h, L.DATA_CONTROL, word, locked) === word) return locked;
      continue;
    }
    if (
      owner !== L.SUPERVISOR_HOLDER && owner !== holder &&
      owner !== Atomics.load(h, L.DATA_EPOCH)
    ) {
      // Held by an instance that was given up after the supervisor fenced it: it wrote
      // nothing (it checks the epoch first), so the lock can be taken back.
      Atomics.compareExchange(h, L.DATA_CONTROL, word, word & L.SLOT_BIT);
      continue;
    }
    if (!canWait) {
      // The main thread must not block in Atomics.wait: it spins for as long as a large
      // store takes at most, then gives up.
      spinUntil ??= performance.now() + SUPERVISOR_SPIN_MS;
      if (performance.now() > spinUntil) return -1;
      continue;
    }
    waited(Atomics.wait(h, L.DATA_CONTROL, word, LOCK_WAIT_MS));
  }
}

/**
 * Replaces the locked control word with `next` (the lock freed, and the current slot as
 * `next` says), then wakes the waiters. False when the supervisor took the lock meanwhile.
 */
export function unlockData(h: Int32Array, locked: number, next: number): boolean {
  const ok = Atomics.compareExchange(h, L.DATA_CONTROL, locked, next) === locked;
  Atomics.notify(h, L.DATA_CONTROL);
  return ok;
}

/** Who holds the lock now (0: nobody), for messages. */
export function lockHolder(h: Int32Array): number {
  return Atomics.load(h, L.DATA_CONTROL) & L.HOLDER_MASK;
}

/** Whether `holder` may act on the data: the supervisor always, an instance while admitted. */
export function mayAct(h: Int32Array, holder: number): boolean {
  return holder === L.SUPERVISOR_HOLDER || Atomics.load(h, L.DATA_EPOCH) === holder;
}

/** The length slot `slot` claims (only trusted against the slot's capacity). */
export function storedLength(h: Int32Array, slot: number): number {
  return Atomics.load(h, L.DATA_LENGTH_0 + slot);
}

/** Under the lock: the length of the value about to be copied into `slot`. */
export function setLength(h: Int32Array, slot: number, length: number): void {
  Atomics.store(h, L.DATA_LENGTH_0 + slot, length);
}

/** Under the lock, the copy done: tells optimistic readers the current slot is about to change. */
export function announceStore(h: Int32Array): void {
  Atomics.add(h, L.DATA_GEN, 1);
}

/** Where an optimistic copy starts: the store count and the control word now. */
export interface ReadPoint {
  gen: number;
  word: number;
}

/** The point an optimistic copy starts from; throws when the control word is corrupt. */
export function readPoint(h: Int32Array): ReadPoint {
  const gen = Atomics.load(h, L.DATA_GEN);
  const word = Atomics.load(h, L.DATA_CONTROL);
  if (word < 0) throw corrupt(`DATA_CONTROL ${word}`);
  return { gen, word };
}

/** Whether no store published since `point`: a copy made meanwhile is the value. */
export function unchangedSince(h: Int32Array, point: ReadPoint): boolean {
  return Atomics.load(h, L.DATA_GEN) === point.gen &&
    (Atomics.load(h, L.DATA_CONTROL) & L.SLOT_BIT) === (point.word & L.SLOT_BIT);
}

/** How many stores were published in this header. */
export function storesPublished(h: Int32Array): number {
  return Atomics.load(h, L.DATA_GEN);
}

// ---- The supervisor's side ----

/** Lets instance `id` act on the data (and no other instance). */
export function admit(h: Int32Array, id: number): void {
  Atomics.store(h, L.DATA_EPOCH, id);
}

/**
 * Closes the epoch of instance `id`, then takes back a lock it still holds, so that its
 * publishing compareExchange fails. Returns the control word it took back, or null when
 * `id` held no lock.
 */
export function fenceHolder(h: Int32Array, id: number): number | null {
  Atomics.store(h, L.DATA_EPOCH, 0);
  for (;;) {
    const word = Atomics.load(h, L.DATA_CONTROL);
    if ((word & L.HOLDER_MASK) !== id) return null;
    if (Atomics.compareExchange(h, L.DATA_CONTROL, word, word & L.SLOT_BIT) === word) return word;
  }
}

/** A new header with the words of `h` as they are now, the magic too, published last. */
export function copyHeader(h: Int32Array): Int32Array {
  const copy = new Int32Array(new SharedArrayBuffer(L.DATA_HEADER_BYTES));
  for (let i = 0; i < copy.length; i++) if (i !== L.DATA_MAGIC) copy[i] = Atomics.load(h, i);
  Atomics.store(copy, L.DATA_MAGIC, Atomics.load(h, L.DATA_MAGIC));
  return copy;
}

/**
 * Where the current value is, when the header is intact: the magic, a control word whose
 * holder is at most `maxHolder` (the supervisor holds no lock when it looks, so its own id is
 * a forgery) and a length that fits its slot. Every word is read once, as an instance given
 * up may still be writing to them.
 */
export function readIntact(
  h: Int32Array,
  maxHolder: number,
  capacity: (slot: number) => number,
  maxDataSize: number,
): { slot: number; length: number } | null {
  if (Atomics.load(h, L.DATA_MAGIC) !== L.DATA_MAGIC_VALUE) return null;
  const word = Atomics.load(h, L.DATA_CONTROL);
  if (word < 0 || (word & L.HOLDER_MASK) > maxHolder) return null;
  const slot = currentSlot(word);
  const length = Atomics.load(h, L.DATA_LENGTH_0 + slot);
  const intact = length >= 0 && length <= capacity(slot) && length <= maxDataSize;
  return intact ? { slot, length } : null;
}

/** A header left behind: no one may act on it, and whoever waits for its lock wakes to see so. */
export function retireHeader(h: Int32Array): void {
  Atomics.store(h, L.DATA_EPOCH, 0);
  Atomics.notify(h, L.DATA_CONTROL);
}

/** Makes a new header valid, slot 0 current and holding `length` bytes; the magic last. */
export function openHeader(h: Int32Array, length: number): void {
  Atomics.store(h, L.DATA_LENGTH_0, length);
  Atomics.store(h, L.DATA_MAGIC, L.DATA_MAGIC_VALUE);
}
