// Shared by the reliability tests and their fixtures: values whose every byte follows from a
// sequence number and a length, so that a restore can be checked completely (a mix of two
// values, a cut, a shift or a wrong length all show), a seeded random source, and the words
// of the control block a storing thread reports through. No imports: writer threads load it,
// and every module a Worker loads costs milliseconds of CPU per Worker.

/** Prime, so that page-sized or power-of-two-sized tears never line up with the pattern. */
const PERIOD = 4093;

/**
 * The value a store with sequence number `seq` and `length` bytes writes: xorshift bytes seeded
 * by both, repeated with period 4093, and from 8 bytes on stamped with `seq` and `length`.
 * Written into `scratch` when it is large enough (no new memory to fault in), else a new array.
 */
export function pattern(seq: number, length: number, scratch?: Uint8Array): Uint8Array {
  const out = scratch !== undefined && scratch.byteLength >= length
    ? scratch.subarray(0, length)
    : new Uint8Array(length);
  let x = Math.imul(seq + 1, 0x9e3779b1) ^ Math.imul(length + 1, 0x85ebca6b);
  if (x === 0) x = 1;
  const head = Math.min(length, PERIOD);
  for (let i = 0; i < head; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x;
  }
  for (let filled = head; filled < length; filled *= 2) {
    out.copyWithin(filled, 0, Math.min(filled, length - filled));
  }
  if (length >= 8) {
    const view = new DataView(out.buffer, out.byteOffset, 8);
    view.setUint32(0, seq, true);
    view.setUint32(4, length, true);
  }
  return out;
}

/** The sequence number a value of 8 bytes or more is stamped with; -1 for shorter ones. */
export function stampOf(bytes: Uint8Array): number {
  if (bytes.byteLength < 8) return -1;
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getUint32(0, true);
}

/** A short description of a restored value, for failure messages. */
export function label(bytes: Uint8Array): string {
  if (bytes.byteLength < 8) return `${bytes.byteLength} bytes [${bytes.join(",")}]`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  return `${bytes.byteLength} bytes stamped seq ${view.getUint32(0, true)} length ${
    view.getUint32(4, true)
  }`;
}

/** A seeded random source (mulberry32): numbers in [0, 1). */
export function random(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A size from 0 to `max` bytes: empty and full ones, small (up to 4 KiB), medium (up to 1/16 of
 * `max`) and large ones (log-uniform up to `max`) all come up; 2 MiB on average for 16 MiB.
 */
export function randomSize(next: () => number, max: number): number {
  const u = next();
  if (u < 0.05) return 0;
  if (u < 0.08) return max;
  if (u < 0.38) return 1 + Math.floor(next() * 4096);
  if (u < 0.73) return Math.floor(next() * (max / 16));
  return Math.min(max, Math.floor((max / 16) * 16 ** next()));
}

/** Int32 words of the control block a storing thread (rel_store_loop.ts) reports through. */
export const C = {
  /** Sequence numbers are taken from here (Atomics.add), unique per control block. */
  NEXT: 0,
  /** The store begun last: its sequence number and length, written before store() is called. */
  ATTEMPT: 1,
  ATTEMPT_LEN: 2,
  /** The store that returned last. */
  DONE: 3,
  DONE_LEN: 4,
  /** The store refused last (store() threw), and how many were refused. */
  REFUSED: 5,
  REFUSALS: 6,
  /** How many stores returned, over every thread of the block. */
  STORES: 7,
  /** hold-lock with `goOn`: set (and notified) by the driver to let the writer finish. */
  GO_ON: 8,
} as const;
export const CONTROL_BYTES = 9 * Int32Array.BYTES_PER_ELEMENT;
