// corosync's native libraries (libcmap, libquorum, libc), opened on first use through _ffi.ts,
// their constants, and the clock libsam's record is stamped with. The cmap connection is in
// _cmap.ts, corosync's quorum in _corosync_quorum.ts.
import { CsError, csErrorName, SamError } from "../errors.ts";
import { ffiNonblocking, type NativeLibrary, openLibrary } from "../platform/ffi.ts";

const _CLOCK_MONOTONIC = 1;
const _CS_OK = CsError.CS_OK;
export const _CS_DISPATCH_ALL = 2;
export const _CS_TRACK_CHANGES = 2;
export const _CMAP_KEYNAME_MAXLEN = 255;
export const _CMAP_VALUETYPE_STRING = 11;
export const _POLLIN = 1;
export const _EFD_CLOEXEC = 0o2000000;
export const _EFD_NONBLOCK = 0o4000;

const _libcSymbols = {
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "u64"], result: "i64" },
  close: { parameters: ["i32"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  poll_nonblocking: {
    parameters: ["buffer", "u64", "i32"],
    result: "i32",
    nonblocking: true,
    unref: true,
  },
} as const;

const _cmapSymbols = {
  cmap_initialize: { parameters: ["buffer"], result: "i32" },
  cmap_finalize: { parameters: ["u64"], result: "i32" },
  cmap_set_string: { parameters: ["u64", "buffer", "buffer"], result: "i32" },
  cmap_set_uint64: { parameters: ["u64", "buffer", "u64"], result: "i32" },
  cmap_set_uint32: { parameters: ["u64", "buffer", "u32"], result: "i32" },
  cmap_get: { parameters: ["u64", "buffer", "buffer", "buffer", "buffer"], result: "i32" },
  cmap_get_uint64: { parameters: ["u64", "buffer", "buffer"], result: "i32" },
  cmap_delete: { parameters: ["u64", "buffer"], result: "i32" },
  cmap_iter_init: { parameters: ["u64", "buffer", "buffer"], result: "i32" },
  cmap_iter_next: { parameters: ["u64", "u64", "buffer", "buffer", "buffer"], result: "i32" },
  cmap_iter_finalize: { parameters: ["u64", "u64"], result: "i32" },
} as const;

const _quorumSymbols = {
  quorum_initialize: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  quorum_finalize: { parameters: ["u64"], result: "i32" },
  quorum_trackstart: { parameters: ["u64", "u32"], result: "i32" },
  quorum_fd_get: { parameters: ["u64", "buffer"], result: "i32" },
  quorum_getquorate: { parameters: ["u64", "buffer"], result: "i32" },
  quorum_dispatch: { parameters: ["u64", "i32"], result: "i32" },
} as const;

export type _Libc = NativeLibrary<typeof _libcSymbols>["symbols"];
export type _Cmap = NativeLibrary<typeof _cmapSymbols>["symbols"];
export type _Quorum = NativeLibrary<typeof _quorumSymbols>["symbols"];

let _libc: _Libc | undefined;
let _cmap: _Cmap | undefined;
let _quorum: _Quorum | undefined;

export function _libcLib(): _Libc {
  if (_libc) return _libc;
  const { poll_nonblocking: _, ...blocking } = _libcSymbols;
  const symbols = openLibrary(["libc.so.6"], blocking).symbols;
  // The same C function bound a second time, as a nonblocking call (Deno only).
  const pollNonblocking = ffiNonblocking()
    ? openLibrary(["libc.so.6"], { poll: _libcSymbols.poll_nonblocking }).symbols.poll
    : (...args: any[]) => Promise.resolve(symbols.poll(...args));
  return _libc = { ...symbols, poll_nonblocking: pollNonblocking };
}

export function _cmapLib(): _Cmap {
  return _cmap ??= openLibrary(["libcmap.so.4", "libcmap.so"], _cmapSymbols).symbols;
}

export function _quorumLib(): _Quorum {
  return _quorum ??= openLibrary(["libquorum.so.5", "libquorum.so"], _quorumSymbols).symbols;
}

export function _check(result: number, fn: string, what: string): void {
  if (result !== _CS_OK) {
    throw new SamError(result as CsError, `${fn} returned ${csErrorName(result)} for ${what}`);
  }
}

const _timespec = new BigInt64Array(2);

/**
 * The time of CLOCK_MONOTONIC, the clock libsam stamps `last_updated` with
 * (`cs_timestamp_get()`) and corosync's watchdog service compares it with. Not
 * `process.hrtime`, which counts from the start of the process on Deno and Bun.
 *
 * @returns Nanoseconds since an arbitrary point (the boot, on Linux).
 * @throws {SamError} `CS_ERR_LIBRARY` when FFI is unavailable.
 */
export function monotonicNs(): bigint {
  if (_libcLib().clock_gettime(_CLOCK_MONOTONIC, _timespec) !== 0) {
    throw new SamError(CsError.CS_ERR_LIBRARY, "clock_gettime(CLOCK_MONOTONIC) failed");
  }
  return _timespec[0] * 1_000_000_000n + _timespec[1];
}
