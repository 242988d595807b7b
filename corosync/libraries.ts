// corosync's native libraries (libcmap, libquorum), opened on first use through
// platform/ffi.ts, and their constants. The cmap connection is in cmap.ts, corosync's quorum in
// quorum.ts; libc is platform/libc.ts.
import { CsError, csErrorName, SamError } from "../errors.ts";
import { type NativeLibrary, openLibrary } from "../platform/ffi.ts";

const CS_OK = CsError.CS_OK;
export const CS_DISPATCH_ALL = 2;
export const CS_TRACK_CHANGES = 2;
export const CMAP_KEYNAME_MAXLEN = 255;
export const CMAP_VALUETYPE_STRING = 11;
export const POLLIN = 1;
export const EFD_CLOEXEC = 0o2000000;
export const EFD_NONBLOCK = 0o4000;

const CMAP_SYMBOLS = {
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

const QUORUM_SYMBOLS = {
  quorum_initialize: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  quorum_finalize: { parameters: ["u64"], result: "i32" },
  quorum_trackstart: { parameters: ["u64", "u32"], result: "i32" },
  quorum_fd_get: { parameters: ["u64", "buffer"], result: "i32" },
  quorum_getquorate: { parameters: ["u64", "buffer"], result: "i32" },
  quorum_dispatch: { parameters: ["u64", "i32"], result: "i32" },
} as const;

export type CmapLib = NativeLibrary<typeof CMAP_SYMBOLS>["symbols"];
export type QuorumLib = NativeLibrary<typeof QUORUM_SYMBOLS>["symbols"];

let cmap: CmapLib | undefined;
let quorum: QuorumLib | undefined;

/** libcmap, opened on first use; throws `CS_ERR_LIBRARY` as openLibrary() does. */
export function cmapLib(): CmapLib {
  return cmap ??= openLibrary(["libcmap.so.4", "libcmap.so"], CMAP_SYMBOLS).symbols;
}

/** libquorum, opened on first use; throws `CS_ERR_LIBRARY` as openLibrary() does. */
export function quorumLib(): QuorumLib {
  return quorum ??= openLibrary(["libquorum.so.5", "libquorum.so"], QUORUM_SYMBOLS).symbols;
}

/** Throws corosync's code `result` unless it is CS_OK, naming the call and what it was for. */
export function check(result: number, fn: string, what: string): void {
  if (result !== CS_OK) {
    throw new SamError(result as CsError, `${fn} returned ${csErrorName(result)} for ${what}`);
  }
}
