// libc, bound once for all of sam through ffi.ts (Deno and Bun; Node has no FFI): what exec in
// place, corosync's quorum and clock, the look at /proc on Deno, systemd's notify socket and
// the memfd of its fd store need. Everything here goes
// through libc rather than the runtime's own APIs: Deno refuses /proc to its file API without
// --allow-all, and --allow-ffi alone must be enough.
import process from "node:process";
import { CsError, SamError } from "../errors.ts";
import { cString, ffiNonblocking, type NativeLibrary, openLibrary } from "./ffi.ts";

const SYMBOLS = {
  memfd_create: { parameters: ["buffer", "u32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "u64"], result: "i64" },
  read: { parameters: ["i32", "buffer", "u64"], result: "i64" },
  pread: { parameters: ["i32", "buffer", "u64", "i64"], result: "i64" },
  pwrite: { parameters: ["i32", "buffer", "u64", "i64"], result: "i64" },
  lseek: { parameters: ["i32", "i64", "i32"], result: "i64" },
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  execve: { parameters: ["u64", "u64", "u64"], result: "i32" },
  __errno_location: { parameters: [], result: "u64" },
  getenv: { parameters: ["buffer"], result: "u64" },
  unsetenv: { parameters: ["buffer"], result: "i32" },
  strlen: { parameters: ["u64"], result: "u64" },
  // memmove(b, b, 0) returns b: the address of a buffer, to build argv and envp arrays.
  memmove: { parameters: ["buffer", "buffer", "u64"], result: "u64" },
  // memcpy(b, address, n) copies n bytes from C memory (errno, a getenv() string) into b.
  memcpy: { parameters: ["buffer", "u64", "u64"], result: "u64" },
  gettid: { parameters: [], result: "i32" },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  sendmsg: { parameters: ["i32", "buffer", "i32"], result: "i64" },
} as const;

/** libc's functions; `poll_nonblocking` is `poll` on another thread where the runtime can. */
export type Libc = NativeLibrary<typeof SYMBOLS>["symbols"] & {
  poll_nonblocking(fds: Int32Array, count: number, timeoutMs: number): Promise<number>;
};

export const EINTR = 4;
export const ENOENT = 2;
export const O_RDONLY = 0;
export const O_CLOEXEC = 0o2000000;

let opened: Libc | SamError | undefined;

function open(): Libc {
  if (process.platform !== "linux") {
    throw new SamError(CsError.CS_ERR_LIBRARY, "libc through FFI is bound on Linux only");
  }
  const symbols = openLibrary(["libc.so.6", "libc.so"], SYMBOLS).symbols;
  // The same C function bound a second time, as a nonblocking call that does not keep the
  // program alive (Deno only).
  const nonblocking = { ...SYMBOLS.poll, nonblocking: true, unref: true };
  const pollNonblocking = ffiNonblocking()
    ? openLibrary(["libc.so.6", "libc.so"], { poll: nonblocking }).symbols.poll
    : (...args: unknown[]) => Promise.resolve(symbols.poll(...args));
  return { ...symbols, poll_nonblocking: pollNonblocking };
}

/**
 * libc, opened on first use.
 *
 * @throws {SamError} `CS_ERR_LIBRARY` where there is no FFI (Node, Deno without --allow-ffi)
 *   or no Linux libc.
 */
export function libc(): Libc {
  if (opened === undefined) {
    try {
      opened = open();
    } catch (error) {
      opened = error instanceof SamError
        ? error
        : new SamError(CsError.CS_ERR_LIBRARY, `cannot bind libc: ${error}`);
    }
  }
  if (opened instanceof SamError) throw opened;
  return opened;
}

/** libc, or null where {@linkcode libc} throws. */
export function libcOrNull(): Libc | null {
  try {
    return libc();
  } catch {
    return null;
  }
}

/** The calling thread's errno, right after the call that set it. */
export function errno(c: Libc): number {
  const out = new Int32Array(1);
  c.memcpy(out, c.__errno_location(), 4n);
  return out[0];
}

/** The whole of a (/proc) file, read through libc; null if it cannot be read. */
export function readWhole(c: Libc, path: string): Uint8Array | null {
  const fd = c.open(cString(path), O_RDONLY | O_CLOEXEC) as number;
  if (fd < 0) return null;
  try {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const part = new Uint8Array(65536);
      const n = Number(c.read(fd, part, BigInt(part.length)));
      if (n < 0 && errno(c) === EINTR) continue;
      if (n < 0) return null;
      if (n === 0) break;
      parts.push(part.subarray(0, n));
      total += n;
    }
    const all = new Uint8Array(total);
    let at = 0;
    for (const part of parts) {
      all.set(part, at);
      at += part.length;
    }
    return all;
  } finally {
    c.close(fd);
  }
}

/**
 * A /proc file read through libc, for Deno, which refuses /proc to its own file API without
 * --allow-all: "gone" when it does not exist, null when it cannot be read at all.
 */
export function readProcThroughLibc(path: string): string | "gone" | null {
  const c = libcOrNull();
  if (c === null) return null;
  const bytes = readWhole(c, path);
  if (bytes !== null) return new TextDecoder().decode(bytes);
  return errno(c) === ENOENT ? "gone" : null;
}

/** The calling thread's Linux id through libc; 0 where there is no FFI. */
export function threadIdThroughLibc(): number {
  const c = libcOrNull();
  return c === null ? 0 : c.gettid() as number;
}
