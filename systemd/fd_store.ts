// The stored data kept in a memfd that systemd holds for the service (FDSTORE=1, FDNAME=), so
// that it outlives the process: after the supervisor's death, a watchdog kill or `systemctl
// restart`, the next process gets the memfd back as LISTEN_FDS and its instance 1 restores it.
// Deno and Bun only (FFI): Node cannot pass a descriptor.
//
// Crash-consistent: the file holds two slots, each a header (magic, sequence number, length,
// checksum of the bytes) and its bytes. A copy goes into the slot that does not hold the latest
// value, bytes first, header last; a process killed at any point leaves the latest whole value
// where it was, and a slot whose bytes do not match its checksum is never read.
import process from "node:process";
import { cString } from "../platform/ffi.ts";
import { type Libc, libcOrNull } from "../platform/libc.ts";

/** The name the memfd has in systemd's fd store (LISTEN_FDNAMES). */
export const FD_NAME = "sam-data";
const MAGIC = 0x53414d4644533031n; // "SAMFDS01"
const HEADER_BYTES = 32;
/** Where the slots' bytes begin: after both headers, page aligned. */
const DATA_START = 4096;
/** The first descriptor systemd passes (SD_LISTEN_FDS_START). */
const LISTEN_FDS_START = 3;

/** Positioned reads and writes of a file: a memfd through libc, or memory in the tests. */
export interface SlotFile {
  pread(into: Uint8Array, position: number): number;
  pwrite(bytes: Uint8Array, position: number): number;
}

/** FNV-1a, 64 bits: enough to tell bytes cut off mid-copy from a whole value. */
export function checksum(bytes: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < bytes.length; i++) {
    h ^= BigInt(bytes[i]);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

interface SlotHeader {
  sequence: bigint;
  length: number;
  sum: bigint;
}

function readHeader(file: SlotFile, slot: number, maxBytes: number): SlotHeader | null {
  const bytes = new Uint8Array(HEADER_BYTES);
  if (file.pread(bytes, slot * HEADER_BYTES) !== HEADER_BYTES) return null;
  const view = new DataView(bytes.buffer);
  if (view.getBigUint64(0, true) !== MAGIC) return null;
  const length = Number(view.getBigUint64(16, true));
  if (length > maxBytes) return null;
  return { sequence: view.getBigUint64(8, true), length, sum: view.getBigUint64(24, true) };
}

/** Two slots of at most `maxBytes` each in `file`: the latest whole value, and the next copy. */
export class SlotStore {
  readonly #file: SlotFile;
  readonly #maxBytes: number;
  #sequence = 0n;
  #latest = -1;

  /** The sequence number of the latest value read or written (0n: none). */
  get sequence(): bigint {
    return this.#sequence;
  }

  constructor(file: SlotFile, maxBytes: number) {
    this.#file = file;
    this.#maxBytes = maxBytes;
  }

  #offset(slot: number): number {
    return DATA_START + slot * Math.ceil(this.#maxBytes / 4096) * 4096;
  }

  /** The latest whole value in the file, or null when neither slot holds one. */
  read(): Uint8Array | null {
    let best: { slot: number; header: SlotHeader; bytes: Uint8Array } | null = null;
    for (const slot of [0, 1]) {
      const header = readHeader(this.#file, slot, this.#maxBytes);
      if (header === null || (best !== null && header.sequence <= best.header.sequence)) continue;
      const bytes = new Uint8Array(header.length);
      if (this.#file.pread(bytes, this.#offset(slot)) !== header.length) continue;
      if (checksum(bytes) !== header.sum) continue; // cut off mid-copy
      best = { slot, header, bytes };
    }
    if (best === null) return null;
    this.#sequence = best.header.sequence;
    this.#latest = best.slot;
    return best.bytes;
  }

  /**
   * Copies `bytes` into the slot that does not hold the latest value: the bytes, then the
   * header that makes them the latest. Returns false when a write fell short.
   */
  write(bytes: Uint8Array, commit = true): boolean {
    const slot = this.#latest === 0 ? 1 : 0;
    if (bytes.length > this.#maxBytes) return false;
    if (bytes.length > 0 && this.#file.pwrite(bytes, this.#offset(slot)) !== bytes.length) {
      return false;
    }
    if (!commit) return true; // a copy cut off before its header (what the tests do)
    const header = new Uint8Array(HEADER_BYTES);
    const view = new DataView(header.buffer);
    view.setBigUint64(0, MAGIC, true);
    view.setBigUint64(8, this.#sequence + 1n, true);
    view.setBigUint64(16, BigInt(bytes.length), true);
    view.setBigUint64(24, checksum(bytes), true);
    if (this.#file.pwrite(header, slot * HEADER_BYTES) !== HEADER_BYTES) return false;
    this.#sequence++;
    this.#latest = slot;
    return true;
  }
}

/** A memfd as a {@linkcode SlotFile}. */
function memfdFile(c: Libc, fd: number): SlotFile {
  return {
    pread: (into, position) => {
      // A zero-length read of an empty slot.
      if (into.length === 0) return 0;
      return Number(c.pread(fd, into, BigInt(into.length), BigInt(position)));
    },
    pwrite: (bytes, position) =>
      Number(c.pwrite(fd, bytes, BigInt(bytes.length), BigInt(position))),
  };
}

/** The stored data's memfd, and what it holds. */
export interface DataMemfd {
  /** Its descriptor, to send with FDSTORE=1. */
  readonly fd: number;
  /** Whether it came from systemd's fd store (it is there already). */
  readonly restored: boolean;
  /** The value it held when it came back; null for a new one. */
  readonly value: Uint8Array | null;
  /** Copies a value in (crash-consistent). */
  write(bytes: Uint8Array): boolean;
}

/** Why the fd store cannot be used here, or null. */
export function fdStoreUnavailable(): string | null {
  return libcOrNull() === null ? "passing a descriptor needs FFI (Deno --allow-ffi, or Bun)" : null;
}

/**
 * The memfd systemd passed back to this process (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES with
 * {@linkcode FD_NAME}), or a new one; null without FFI.
 */
export function openDataMemfd(
  env: Readonly<Record<string, string | undefined>>,
  maxBytes: number,
): DataMemfd | null {
  const c = libcOrNull();
  if (c === null) return null;
  const names = (env.LISTEN_FDNAMES ?? "").split(":");
  const count = Number(env.LISTEN_FDS);
  if (Number(env.LISTEN_PID) === process.pid && Number.isInteger(count)) {
    // The latest of the memfds by that name (an exec in place may have stored a second one).
    let best: { fd: number; slots: SlotStore; value: Uint8Array | null } | null = null;
    names.forEach((name, index) => {
      if (name !== FD_NAME || index >= count) return;
      const fd = LISTEN_FDS_START + index;
      const slots = new SlotStore(memfdFile(c, fd), maxBytes);
      const value = slots.read();
      if (best === null || slots.sequence > best.slots.sequence) best = { fd, slots, value };
    });
    if (best !== null) {
      const { fd, slots, value } = best as {
        fd: number;
        slots: SlotStore;
        value: Uint8Array | null;
      };
      return { fd, restored: true, value, write: (bytes) => slots.write(bytes) };
    }
  }
  // No MFD_CLOEXEC: an exec in place keeps it, as it keeps systemd's copy.
  const fd = c.memfd_create(cString(FD_NAME), 0) as number;
  if (fd < 0) return null;
  const slots = new SlotStore(memfdFile(c, fd), maxBytes);
  return { fd, restored: false, value: null, write: (bytes) => slots.write(bytes) };
}
