/**
 * corosync's own services, through libcmap and libquorum: the cmap record libsam keeps under
 * `resources.process.<pid>.`, corosync's quorum as a {@linkcode QuorumSource}, and the clock
 * that record is stamped with. Everything native goes through `_ffi.ts`, and nothing is
 * loaded until first used.
 *
 * @module
 */
import { CsError, csErrorName, SamError } from "./errors.ts";
import {
  cString,
  ffiAvailable,
  ffiNonblocking,
  ffiUnrefSupported,
  type NativeLibrary,
  openLibrary,
} from "./_ffi.ts";
import type { QuorumSource } from "./options.ts";
import { Worker } from "node:worker_threads";

const _CLOCK_MONOTONIC = 1;
const _CS_OK = CsError.CS_OK;
const _CS_DISPATCH_ALL = 2;
const _CS_TRACK_CHANGES = 2;
const _CMAP_KEYNAME_MAXLEN = 255;
const _CMAP_VALUETYPE_STRING = 11;
const _POLLIN = 1;
const _EFD_CLOEXEC = 0o2000000;
const _EFD_NONBLOCK = 0o4000;

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

type _Libc = NativeLibrary<typeof _libcSymbols>["symbols"];
type _Cmap = NativeLibrary<typeof _cmapSymbols>["symbols"];
type _Quorum = NativeLibrary<typeof _quorumSymbols>["symbols"];

let _libc: _Libc | undefined;
let _cmap: _Cmap | undefined;
let _quorum: _Quorum | undefined;

function _libcLib(): _Libc {
  if (_libc) return _libc;
  const { poll_nonblocking: _, ...blocking } = _libcSymbols;
  const symbols = openLibrary(["libc.so.6"], blocking).symbols;
  // The same C function bound a second time, as a nonblocking call (Deno only).
  const pollNonblocking = ffiNonblocking()
    ? openLibrary(["libc.so.6"], { poll: _libcSymbols.poll_nonblocking }).symbols.poll
    : (...args: any[]) => Promise.resolve(symbols.poll(...args));
  return _libc = { ...symbols, poll_nonblocking: pollNonblocking };
}

function _cmapLib(): _Cmap {
  return _cmap ??= openLibrary(["libcmap.so.4", "libcmap.so"], _cmapSymbols).symbols;
}

function _quorumLib(): _Quorum {
  return _quorum ??= openLibrary(["libquorum.so.5", "libquorum.so"], _quorumSymbols).symbols;
}

function _check(result: number, fn: string, what: string): void {
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

/**
 * A connection to corosync's cmap (configuration and status map), as libsam keeps its
 * record there. Every call that corosync does not answer with `CS_OK` throws a
 * {@linkcode SamError} with corosync's code, `"<function> returned <name> for <key>"`.
 * When corosync goes away, calls throw `CS_ERR_LIBRARY` and {@linkcode connected} turns
 * false; since cmap lives in corosync's memory, a caller then {@linkcode reconnect}s once
 * corosync is back and writes its record again whole.
 */
export interface CmapConnection {
  /** False once a call returned `CS_ERR_LIBRARY` (corosync went away) or after close(). */
  readonly connected: boolean;
  /**
   * Sets a string key (`cmap_set_string`).
   * @param key Full key name, such as `resources.process.42.state`.
   * @param value The value, written without its NUL as corosync stores strings.
   * @throws {SamError} corosync's code when not `CS_OK`.
   */
  setString(key: string, value: string): void;
  /**
   * Sets an unsigned 64-bit key (`cmap_set_uint64`).
   * @param key Full key name.
   * @param value The value, 0 to 2^64 - 1.
   * @throws {SamError} corosync's code when not `CS_OK`; `CS_ERR_INVALID_PARAM` for a value
   *   out of range.
   */
  setUint64(key: string, value: bigint): void;
  /**
   * Sets an unsigned 32-bit key (`cmap_set_uint32`), such as `quorum.expected_votes`.
   * @param key Full key name.
   * @param value The value, an integer 0 to 2^32 - 1.
   * @throws {SamError} corosync's code when not `CS_OK`; `CS_ERR_INVALID_PARAM` for a value
   *   out of range.
   */
  setUint32(key: string, value: number): void;
  /**
   * Reads a string key (`cmap_get`).
   * @param key Full key name.
   * @returns The value, or `undefined` when the key does not exist.
   * @throws {SamError} corosync's code when neither `CS_OK` nor `CS_ERR_NOT_EXIST`;
   *   `CS_ERR_INVALID_PARAM` when the key is not a string.
   */
  getString(key: string): string | undefined;
  /**
   * Reads an unsigned 64-bit key (`cmap_get_uint64`).
   * @param key Full key name.
   * @returns The value, or `undefined` when the key does not exist.
   * @throws {SamError} corosync's code when neither `CS_OK` nor `CS_ERR_NOT_EXIST`
   *   (`CS_ERR_INVALID_PARAM` when the key has another type).
   */
  getUint64(key: string): bigint | undefined;
  /**
   * Deletes a key (`cmap_delete`).
   * @param key Full key name.
   * @throws {SamError} corosync's code when not `CS_OK` (`CS_ERR_NOT_EXIST` for no such key).
   */
  delete(key: string): void;
  /**
   * Names of the keys that start with `prefix` (`cmap_iter_*`).
   * @param prefix Such as `resources.process.42.`; `""` for all.
   * @returns The key names, in cmap's order (sorted).
   * @throws {SamError} corosync's code when not `CS_OK`.
   */
  keys(prefix: string): string[];
  /**
   * Deletes every key that starts with `prefix`, as libsam removes its record.
   * @param prefix Such as `resources.process.42.`; should end with a dot.
   * @returns How many keys were deleted.
   * @throws {SamError} corosync's code when not `CS_OK`; a key that vanished meanwhile is
   *   not an error.
   */
  deletePrefix(prefix: string): number;
  /**
   * Drops the connection and opens a new one (`cmap_finalize`, `cmap_initialize`), for use
   * after corosync came back. What was written before is gone with corosync's memory.
   * @throws {SamError} `CS_ERR_LIBRARY` while corosync cannot be reached (then the
   *   connection stays unconnected and reconnect() may be called again).
   */
  reconnect(): void;
  /** Closes the connection (`cmap_finalize`); later calls throw `CS_ERR_BAD_HANDLE`. */
  close(): void;
}

class _CmapConnection implements CmapConnection {
  #lib: _Cmap;
  #handle = new BigUint64Array(1);
  #connected = false;
  #closed = false;
  #u64 = new BigUint64Array(1);
  #len = new BigUint64Array(1);
  #type = new Int32Array(1);
  #value = new Uint8Array(1024);
  #keyName = new Uint8Array(_CMAP_KEYNAME_MAXLEN + 1);
  #decoder = new TextDecoder();

  constructor(lib: _Cmap) {
    this.#lib = lib;
    this.#connect();
  }

  get connected(): boolean {
    return this.#connected;
  }

  #connect(): void {
    const handle = new BigUint64Array(1);
    _check(this.#lib.cmap_initialize(handle), "cmap_initialize", "cmap");
    this.#handle = handle;
    this.#connected = true;
  }

  #h(fn: string, key: string): bigint {
    if (this.#closed) {
      throw new SamError(CsError.CS_ERR_BAD_HANDLE, `${fn} on a closed cmap connection for ${key}`);
    }
    return this.#handle[0];
  }

  #result(result: number, fn: string, key: string): void {
    if (result === CsError.CS_ERR_LIBRARY) this.#connected = false;
    _check(result, fn, key);
  }

  setString(key: string, value: string): void {
    const h = this.#h("cmap_set_string", key);
    this.#result(
      this.#lib.cmap_set_string(h, cString(key), cString(value)),
      "cmap_set_string",
      key,
    );
  }

  setUint64(key: string, value: bigint): void {
    const h = this.#h("cmap_set_uint64", key);
    if (typeof value !== "bigint" || value < 0n || value > 0xffff_ffff_ffff_ffffn) {
      throw new SamError(CsError.CS_ERR_INVALID_PARAM, `cmap_set_uint64 value ${value} for ${key}`);
    }
    this.#result(this.#lib.cmap_set_uint64(h, cString(key), value), "cmap_set_uint64", key);
  }

  setUint32(key: string, value: number): void {
    const h = this.#h("cmap_set_uint32", key);
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
      throw new SamError(CsError.CS_ERR_INVALID_PARAM, `cmap_set_uint32 value ${value} for ${key}`);
    }
    this.#result(this.#lib.cmap_set_uint32(h, cString(key), value), "cmap_set_uint32", key);
  }

  getString(key: string): string | undefined {
    const h = this.#h("cmap_get", key);
    const k = cString(key);
    for (;;) {
      this.#len[0] = BigInt(this.#value.length);
      const result = this.#lib.cmap_get(h, k, this.#value, this.#len, this.#type);
      if (result === CsError.CS_ERR_NOT_EXIST) return undefined;
      // A value longer than the buffer: ask for its length, then read it into one that fits.
      if (result === CsError.CS_ERR_INVALID_PARAM && this.#value.length < 1 << 20) {
        this.#value = new Uint8Array(this.#value.length * 4);
        continue;
      }
      this.#result(result, "cmap_get", key);
      if (this.#type[0] !== _CMAP_VALUETYPE_STRING) {
        throw new SamError(
          CsError.CS_ERR_INVALID_PARAM,
          `cmap_get returned type ${this.#type[0]}, not a string, for ${key}`,
        );
      }
      let end = Number(this.#len[0]);
      if (end > 0 && this.#value[end - 1] === 0) end--;
      return this.#decoder.decode(this.#value.subarray(0, end));
    }
  }

  getUint64(key: string): bigint | undefined {
    const h = this.#h("cmap_get_uint64", key);
    const result = this.#lib.cmap_get_uint64(h, cString(key), this.#u64);
    if (result === CsError.CS_ERR_NOT_EXIST) return undefined;
    this.#result(result, "cmap_get_uint64", key);
    return this.#u64[0];
  }

  delete(key: string): void {
    const h = this.#h("cmap_delete", key);
    this.#result(this.#lib.cmap_delete(h, cString(key)), "cmap_delete", key);
  }

  keys(prefix: string): string[] {
    const h = this.#h("cmap_iter_init", prefix);
    const iter = new BigUint64Array(1);
    this.#result(this.#lib.cmap_iter_init(h, cString(prefix), iter), "cmap_iter_init", prefix);
    const keys: string[] = [];
    try {
      for (;;) {
        this.#keyName.fill(0);
        const result = this.#lib.cmap_iter_next(h, iter[0], this.#keyName, this.#len, this.#type);
        if (result === CsError.CS_ERR_NO_SECTIONS) break;
        this.#result(result, "cmap_iter_next", prefix);
        const end = this.#keyName.indexOf(0);
        keys.push(this.#decoder.decode(this.#keyName.subarray(0, end < 0 ? undefined : end)));
      }
    } finally {
      this.#lib.cmap_iter_finalize(h, iter[0]);
    }
    return keys;
  }

  deletePrefix(prefix: string): number {
    let deleted = 0;
    for (const key of this.keys(prefix)) {
      const result = this.#lib.cmap_delete(this.#h("cmap_delete", key), cString(key));
      if (result === CsError.CS_ERR_NOT_EXIST) continue;
      this.#result(result, "cmap_delete", key);
      deleted++;
    }
    return deleted;
  }

  reconnect(): void {
    if (this.#closed) {
      throw new SamError(CsError.CS_ERR_BAD_HANDLE, "reconnect() on a closed cmap connection");
    }
    this.#lib.cmap_finalize(this.#handle[0]);
    this.#connected = false;
    this.#connect();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#connected = false;
    this.#lib.cmap_finalize(this.#handle[0]);
  }
}

/**
 * Connects to corosync's cmap.
 *
 * @returns A new connection; close it when done.
 * @throws {SamError} `CS_ERR_LIBRARY` when FFI is unavailable, libcmap is not installed or
 *   corosync cannot be reached (not running, or in another network namespace).
 */
export function openCmap(): CmapConnection {
  return new _CmapConnection(_cmapLib());
}

/** How a {@linkcode CorosyncQuorum} learns that corosync has news for it. */
export type QuorumWakeMode = "poll" | "worker" | "timer";

/** Options of {@linkcode CorosyncQuorum.open}. */
export interface CorosyncQuorumOptions {
  /**
   * How to wait for news without blocking the event loop: `"poll"` a nonblocking FFI
   * `poll` (Deno), `"worker"` a Worker blocking in `poll` (Bun), `"timer"` a check every
   * `timerMs`. The default is the first that this runtime offers.
   */
  wake?: QuorumWakeMode;
  /**
   * Period of the `"timer"` mode, in ms.
   * @default {10}
   */
  timerMs?: number;
}

// The Worker of the "worker" mode: it blocks in poll on the quorum fd and the eventfd, says
// "ready" when the quorum fd is readable, and waits until the main thread has dispatched
// (so that it does not spin on a fd that stays readable), or ends when told to stop. The main
// thread owns both descriptors and closes the eventfd when the Worker says "done".
const _workerSource = `
const { parentPort, workerData } = require("node:worker_threads");
(async () => {
  const { openLibrary } = await import(workerData.ffiUrl);
  const libc = openLibrary(["libc.so.6"], {
    poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  }).symbols;
  const flag = new Int32Array(workerData.flag);
  const fds = new Int32Array([workerData.quorumFd, 1, workerData.eventFd, 1]);
  for (;;) {
    fds[1] = 1; fds[3] = 1;
    const n = libc.poll(fds, 2, -1);
    if (Atomics.load(flag, 0) === 2 || (n > 0 && (fds[3] >>> 16) !== 0)) break;
    if (n <= 0) continue;
    Atomics.store(flag, 0, 0);
    parentPort.postMessage(fds[1] >>> 16);
    Atomics.wait(flag, 0, 0);
    if (Atomics.load(flag, 0) === 2) break;
  }
  parentPort.postMessage("done");
})();
`;

/**
 * corosync's quorum (libquorum) as a {@linkcode QuorumSource}: `quorate` is corosync's
 * answer, and a `"change"` event comes when it flips, within about a millisecond of
 * corosync's notification. Waiting never blocks the event loop and never keeps a program
 * alive that has nothing else to do.
 *
 * When corosync goes away, `quorate` turns false (with a `"change"` if it was true),
 * `connected` turns false, and a `"disconnect"` event comes; the source is then dead. Open
 * a new one once corosync is back.
 *
 * No JavaScript callback is handed to libquorum: its dispatch keeps a large buffer on the
 * stack, which overflows Deno's stack in a callback. The fd only says when to look, and
 * `quorum_getquorate` gives the answer.
 */
export class CorosyncQuorum extends EventTarget implements QuorumSource {
  #lib: _Quorum;
  #libc: _Libc;
  #handle: bigint;
  #quorumFd: number;
  #eventFd = -1;
  #quorate: boolean;
  #connected = true;
  #closed = false;
  #flag = new Int32Array(new SharedArrayBuffer(4));
  #fds = new Int32Array(4);
  #out = new Int32Array(1);
  #timer: ReturnType<typeof setInterval> | undefined;
  #signaled = false;
  /** How this source waits for news from corosync. */
  readonly wakeMode: QuorumWakeMode;
  /** Why the source stopped, when corosync went away. */
  error: SamError | undefined;

  private constructor(
    lib: _Quorum,
    libc: _Libc,
    handle: bigint,
    quorumFd: number,
    mode: QuorumWakeMode,
  ) {
    super();
    this.#lib = lib;
    this.#libc = libc;
    this.#handle = handle;
    this.#quorumFd = quorumFd;
    this.wakeMode = mode;
    this.#quorate = this.#getQuorate();
  }

  /**
   * Connects to corosync's quorum service and starts following changes.
   *
   * @param options How to wait for news; the default suits the runtime.
   * @returns A quorum source that knows the current quorum.
   * @throws {SamError} `CS_ERR_LIBRARY` when FFI is unavailable, libquorum is not installed
   *   or corosync's quorum service cannot be reached; another corosync code when one of
   *   `quorum_initialize`, `quorum_trackstart`, `quorum_fd_get`, `quorum_getquorate` fails.
   */
  static open(options: CorosyncQuorumOptions = {}): CorosyncQuorum {
    if (!ffiAvailable()) {
      throw new SamError(CsError.CS_ERR_LIBRARY, "FFI is unavailable for corosync's quorum");
    }
    const lib = _quorumLib();
    const libc = _libcLib();
    const handle = new BigUint64Array(1);
    const type = new Uint32Array(1);
    // quorum_callbacks_t with a NULL quorum_notify_fn.
    const callbacks = new BigUint64Array(1);
    _check(lib.quorum_initialize(handle, callbacks, type), "quorum_initialize", "quorum");
    const h = handle[0];
    let source: CorosyncQuorum | undefined;
    try {
      _check(lib.quorum_trackstart(h, _CS_TRACK_CHANGES), "quorum_trackstart", "quorum");
      const fd = new Int32Array(1);
      _check(lib.quorum_fd_get(h, fd), "quorum_fd_get", "quorum");
      const mode = options.wake ?? (ffiNonblocking() && ffiUnrefSupported() ? "poll" : "worker");
      source = new CorosyncQuorum(lib, libc, h, fd[0], mode);
      source.#start(options.timerMs ?? 10);
      return source;
    } catch (error) {
      if (source) source.close();
      else lib.quorum_finalize(h);
      throw error;
    }
  }

  /** Whether corosync says the cluster is quorate (false once disconnected). */
  get quorate(): boolean {
    return this.#quorate;
  }

  /** False once corosync went away or after close(). */
  get connected(): boolean {
    return this.#connected;
  }

  #getQuorate(): boolean {
    const result = this.#lib.quorum_getquorate(this.#handle, this.#out);
    _check(result, "quorum_getquorate", "quorum");
    return this.#out[0] !== 0;
  }

  #start(timerMs: number): void {
    if (this.wakeMode === "timer") {
      this.#timer = setInterval(() => this.#check(0), timerMs);
      _unrefTimer(this.#timer);
      return;
    }
    this.#eventFd = this.#libc.eventfd(0, _EFD_CLOEXEC | _EFD_NONBLOCK);
    if (this.#eventFd < 0) {
      throw new SamError(CsError.CS_ERR_LIBRARY, "eventfd failed for quorum");
    }
    if (this.wakeMode === "poll") {
      this.#pollNonblocking();
      return;
    }
    const worker = new Worker(_workerSource, {
      eval: true,
      workerData: {
        ffiUrl: new URL("./_ffi.ts", import.meta.url).href,
        flag: this.#flag.buffer,
        quorumFd: this.#quorumFd,
        eventFd: this.#eventFd,
      },
    });
    worker.on("message", (revents: unknown) => {
      if (revents === "done") return this.#closeEventFd();
      if (typeof revents !== "number" || this.#closed) return;
      this.#check(revents);
      if (this.#closed) return;
      Atomics.store(this.#flag, 0, 1);
      Atomics.notify(this.#flag, 0);
    });
    worker.on("error", () => {
      // A Worker that cannot run: fall back to looking every few ms.
      if (this.#closed || this.#timer) return;
      this.#timer = setInterval(() => this.#check(0), timerMs);
      _unrefTimer(this.#timer);
    });
    // After the listeners: on Bun, adding a "message" listener refs the Worker again.
    worker.unref();
  }

  #pollNonblocking(): void {
    const fds = this.#fds;
    fds.set([this.#quorumFd, _POLLIN, this.#eventFd, _POLLIN]);
    const pending = this.#libc.poll_nonblocking(fds, 2, -1) as Promise<number>;
    // Bound with unref: the pending poll does not keep a program alive that is done.
    pending.then((n) => {
      if (!this.#closed && (fds[3] >>> 16) === 0 && n > 0) this.#check(fds[1] >>> 16);
      if (this.#closed || !this.#connected) this.#closeEventFd();
      else this.#pollNonblocking();
    });
  }

  // Called when the quorum fd may have news (revents), or by the timer (0: look anyway).
  #check(revents: number): void {
    if (this.#closed || !this.#connected) return;
    if (revents === 0) {
      this.#fds.set([this.#quorumFd, _POLLIN, -1, 0]);
      if (this.#libc.poll(this.#fds, 1, 0) <= 0) return;
    }
    const result = this.#lib.quorum_dispatch(this.#handle, _CS_DISPATCH_ALL);
    let quorate: boolean;
    try {
      _check(result, "quorum_dispatch", "quorum");
      quorate = this.#getQuorate();
    } catch (error) {
      this.#disconnect(error as SamError);
      return;
    }
    if (quorate !== this.#quorate) {
      this.#quorate = quorate;
      this.dispatchEvent(new Event("change"));
    }
  }

  #disconnect(error: SamError): void {
    this.error = error;
    this.#connected = false;
    this.#stopWaiting();
    const was = this.#quorate;
    this.#quorate = false;
    if (was) this.dispatchEvent(new Event("change"));
    this.dispatchEvent(new Event("disconnect"));
  }

  #stopWaiting(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    Atomics.store(this.#flag, 0, 2);
    Atomics.notify(this.#flag, 0);
    if (this.#eventFd >= 0 && !this.#signaled) {
      // Wakes the pending poll; the eventfd is closed once the waiter has seen it.
      this.#signaled = true;
      this.#libc.write(this.#eventFd, new BigUint64Array([1n]), 8);
    }
  }

  #closeEventFd(): void {
    if (this.#eventFd < 0) return;
    this.#libc.close(this.#eventFd);
    this.#eventFd = -1;
  }

  /**
   * Stops following corosync's quorum and disconnects (`quorum_finalize`). No event comes
   * afterwards; `quorate` keeps its last value.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopWaiting();
    this.#connected = false;
    this.#lib.quorum_finalize(this.#handle);
  }
}

function _unrefTimer(timer: unknown): void {
  const t = timer as { unref?: () => void };
  if (typeof t.unref === "function") t.unref();
  else {
    const deno = (globalThis as { Deno?: { unrefTimer(id: number): void } }).Deno;
    deno?.unrefTimer(timer as number);
  }
}
