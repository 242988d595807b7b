// Handing supervision over to a new image of this same process: execve of the same executable
// and command line, so the pid, stdio and inherited descriptors stay while every thread of the
// old image ends, including a Worker's thread that Worker.terminate() could not stop (Deno 2.7
// to 2.9). The bytes to carry travel in a memfd (memory only, no file on disk) that the exec
// keeps open; its number is in an environment variable of the new image.
//
// Everything goes through libc rather than the runtime's own APIs: Deno refuses /proc to its
// file API without --allow-all and the environment without --allow-env, and --allow-ffi alone
// must be enough. execInPlace() carries opaque bytes; execHandOver, at the end, carries the
// hand-over state (state.ts) in them.
import process from "node:process";
import { CsError, SamError } from "../errors.ts";
import { cString } from "../platform/ffi.ts";
import { EINTR, errno, type Libc, libcOrNull, readWhole } from "../platform/libc.ts";
import { runtime } from "../platform/runtime.ts";
import {
  decodeHandOver,
  encodeHandOver,
  type HandOverState,
  type HandOverStrategy,
} from "./state.ts";

/** Name of the environment variable that tells the new image where its bytes are. */
const MARKER = "SAM_HANDOVER_FD";
/** Shows in /proc/<pid>/fd as "/memfd:sam-handover", for whoever looks at the process. */
const MEMFD_NAME = "sam-handover";
/**
 * Leads the memfd, with the payload's length after it, so that a marker pointing at some other
 * descriptor (left over, copied by hand) is never taken for a hand-over.
 */
const MAGIC = new TextEncoder().encode("SAM-HOV1");
const HEADER_BYTES = MAGIC.length + 8;
/** Bytes per write() and pread(): the same code path for every size, no huge single call. */
const CHUNK = 1 << 20;
const SEEK_END = 2;

/** Writes all of `bytes` to `fd`; returns 0, or the errno that stopped it. */
function writeAll(c: Libc, fd: number, bytes: Uint8Array): number {
  for (let offset = 0; offset < bytes.length;) {
    const part = bytes.subarray(offset, Math.min(offset + CHUNK, bytes.length));
    const n = Number(c.write(fd, part, BigInt(part.length)));
    if (n < 0) {
      const e = errno(c);
      if (e !== EINTR) return e;
    } else if (n === 0) {
      return 28; // ENOSPC: a write that takes nothing would loop forever.
    } else {
      offset += n;
    }
  }
  return 0;
}

/** Reads `bytes.length` bytes of `fd` from `position` on; false if it ends short or fails. */
function preadAll(c: Libc, fd: number, bytes: Uint8Array, position: number): boolean {
  for (let offset = 0; offset < bytes.length;) {
    const part = bytes.subarray(offset, Math.min(offset + CHUNK, bytes.length));
    const n = Number(c.pread(fd, part, BigInt(part.length), BigInt(position + offset)));
    if (n < 0 && errno(c) === EINTR) continue;
    if (n <= 0) return false;
    offset += n;
  }
  return true;
}

/** The NUL-separated strings of `bytes` (a trailing NUL ends the last one). */
function splitNul(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0) {
      out.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < bytes.length) out.push(bytes.subarray(start));
  return out;
}

/**
 * The environment as it is now, as NAME=value byte strings: what the program set or removed
 * counts, as it would for a child process. /proc/self/environ shows only the environment the
 * image started with, so it serves only where the runtime's own view is out of reach (Deno
 * without --allow-env, where the program cannot have changed it through Deno.env either).
 */
function currentEnvironment(c: Libc): Uint8Array[] | null {
  const encoder = new TextEncoder();
  const env = runtime.environment();
  if (env !== null) {
    return Object.entries(env).flatMap(([k, v]) =>
      v === undefined ? [] : [encoder.encode(`${k}=${v}`)]
    );
  }
  const raw = readWhole(c, "/proc/self/environ");
  return raw === null ? null : splitNul(raw);
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/**
 * Whether {@linkcode execInPlace} can work here: Linux, Deno or Bun, FFI already permitted
 * (never prompts) and a libc with the functions it needs. Only Deno really needs the exec (a
 * Worker that terminate() cannot stop); Bun's and Node's terminate() stop their threads. Node
 * has no FFI: false.
 *
 * @returns true when the process image can be replaced in place.
 */
export function canExecInPlace(): boolean {
  return libcOrNull() !== null;
}

/**
 * Replaces this process's image with a fresh start of the same program: execve of the
 * runtime's executable with the command line of /proc/self/cmdline and the current environment
 * plus a marker, carrying `payload` in a memfd. The pid, stdio, signal mask and ignored signals
 * and every descriptor without close-on-exec stay; every thread of the old image ends, Workers
 * included, and with them whatever they held that is close-on-exec (the runtimes' own sockets
 * and files). The new image gets the bytes back from {@linkcode takeHandOver}.
 *
 * Output that the old image still buffers is lost: write what must be seen synchronously
 * before calling this.
 *
 * @param payload The bytes for the new image, opaque here (any length the memory allows).
 * @returns Never: on success the calling code is gone with its image.
 * @throws {SamError} CS_ERR_LIBRARY when {@linkcode canExecInPlace} is false, the memfd cannot
 *   be made or filled, the command line or environment cannot be read, or execve() fails (the
 *   message names the errno); the memfd is closed again then and the process goes on as it was.
 */
export function execInPlace(payload: Uint8Array): never {
  const c = libcOrNull();
  if (c === null) {
    throw new SamError(CsError.CS_ERR_LIBRARY, "execInPlace() needs FFI and a Linux libc");
  }
  const fail = (what: string, e: number): never => {
    throw new SamError(CsError.CS_ERR_LIBRARY, `${what} failed: errno ${e}`);
  };
  // No MFD_CLOEXEC: this descriptor, alone of the ones made here, must survive the exec.
  const fd = c.memfd_create(cString(MEMFD_NAME), 0) as number;
  if (fd < 0) fail("memfd_create()", errno(c));
  try {
    const header = new Uint8Array(HEADER_BYTES);
    header.set(MAGIC);
    new DataView(header.buffer).setBigUint64(MAGIC.length, BigInt(payload.length), true);
    const written = writeAll(c, fd, header) || writeAll(c, fd, payload);
    if (written !== 0) fail("writing the hand-over memfd", written);

    const cmdline = readWhole(c, "/proc/self/cmdline");
    const argv = cmdline === null ? [] : splitNul(cmdline);
    if (argv.length === 0) fail("reading /proc/self/cmdline", errno(c));
    const environment = currentEnvironment(c);
    if (environment === null) fail("reading the environment", errno(c));
    const prefix = new TextEncoder().encode(`${MARKER}=`);
    // The pid goes with the fd: a child that inherits both (a spawn before takeHandOver())
    // has another pid and leaves the bytes alone.
    const envp = environment!.filter((entry) => !startsWith(entry, prefix));
    envp.push(new TextEncoder().encode(`${MARKER}=${fd},${process.pid}`));

    const path = new TextEncoder().encode(runtime.execPath());
    const strings = [path, ...argv, ...envp];
    const tableBytes = (argv.length + 1 + envp.length + 1) * 8;
    const stringBytes = strings.reduce((n, s) => n + s.length + 1, 0);
    // One ArrayBuffer for everything, so that nothing in it moves or goes away before execve
    // reads it: a typed array this large is never kept inside the garbage-collected heap.
    const block = new Uint8Array(new ArrayBuffer(Math.max(4096, tableBytes + stringBytes)));
    const base = c.memmove(block, block, 0n) as bigint;
    const table = new BigUint64Array(block.buffer, 0, tableBytes / 8);
    const addresses: bigint[] = [];
    let at = tableBytes;
    for (const s of strings) {
      block.set(s, at);
      addresses.push(base + BigInt(at));
      at += s.length + 1; // the byte after it is already 0
    }
    table.set(addresses.slice(1, 1 + argv.length), 0);
    table.set(addresses.slice(1 + argv.length), argv.length + 1);
    const argvAt = base;
    const envpAt = base + BigInt((argv.length + 1) * 8);
    c.execve(addresses[0], argvAt, envpAt);
    const e = errno(c); // before anything else can set it
    fail(`execve() of ${new TextDecoder().decode(path)}`, e);
  } catch (error) {
    c.close(fd);
    throw error;
  }
  throw new SamError(CsError.CS_ERR_LIBRARY, "execve() returned"); // not reached
}

/** Removes the marker from this process's environment, for the runtime's view and libc's. */
function forgetMarker(c: Libc): void {
  c.unsetenv(cString(MARKER));
  try {
    // Bun's process.env is its own copy; on Deno this needs --allow-env (libc's is enough).
    delete process.env[MARKER];
  } catch {
    // No env permission: libc's environment, which children get, is already clean.
  }
}

/**
 * In the image that {@linkcode execInPlace} started: the bytes it carried, read once. The
 * memfd is closed and the marker removed from the environment, so that later children and
 * execs do not see it. A marker that is missing, garbled, meant for another pid, or that
 * points at anything but a hand-over memfd gives null.
 *
 * @returns The payload, or null when this image was not started by a hand-over (or FFI is
 *   not available, as on Node or on Deno without --allow-ffi).
 * @throws Never.
 */
export function takeHandOver(): Uint8Array | null {
  const c = libcOrNull();
  if (c === null) return null;
  try {
    const address = c.getenv(cString(MARKER)) as bigint;
    if (address === 0n) return null;
    const text = new Uint8Array(Number(c.strlen(address)));
    c.memcpy(text, address, BigInt(text.length));
    forgetMarker(c);
    const match = /^(\d{1,9}),(\d{1,9})$/.exec(new TextDecoder().decode(text));
    if (match === null) return null;
    const fd = Number(match[1]);
    if (Number(match[2]) !== process.pid || fd < 3) return null;
    return readMemfd(c, fd);
  } catch {
    return null;
  }
}

/** The payload in the hand-over memfd `fd`, which it closes; null if `fd` is not one. */
function readMemfd(c: Libc, fd: number): Uint8Array | null {
  const header = new Uint8Array(HEADER_BYTES);
  if (!preadAll(c, fd, header, 0) || !startsWith(header, MAGIC)) return null;
  const length = new DataView(header.buffer).getBigUint64(MAGIC.length, true);
  const size = c.lseek(fd, 0n, SEEK_END) as bigint;
  if (size !== BigInt(HEADER_BYTES) + length) return null;
  const payload = new Uint8Array(Number(length));
  const ok = preadAll(c, fd, payload, HEADER_BYTES);
  // Closed only once it is known to be ours: a stray number may name someone else's file.
  c.close(fd);
  return ok ? payload : null;
}

/** Replaces the process image in place, carrying the state in a memfd. */
export const execHandOver: HandOverStrategy = {
  kind: "exec",
  handOver(state: HandOverState): Promise<string | null> {
    try {
      execInPlace(encodeHandOver(state));
    } catch (error) {
      return Promise.resolve(String(error));
    }
  },
};

/** Why exec in place cannot be used here, or null when it can. */
export function execUnavailable(): string | null {
  return canExecInPlace()
    ? null
    : "exec in place needs FFI (Deno: --allow-ffi) on Linux, which this process does not have";
}

/** The state an earlier image of this process handed over, taken once; null if none. */
export function takeExecHandOver(): HandOverState | null {
  const bytes = takeHandOver();
  return bytes === null ? null : decodeHandOver(bytes);
}
