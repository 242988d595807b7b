// A connection to corosync's cmap: the keys libsam's record is written under.
import {
  check,
  CMAP_KEYNAME_MAXLEN,
  CMAP_VALUETYPE_STRING,
  type CmapLib,
  cmapLib,
} from "./libraries.ts";
import { CsError, SamError } from "../errors.ts";
import { cString } from "../platform/ffi.ts";

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

class NativeCmap implements CmapConnection {
  #lib: CmapLib;
  #handle = new BigUint64Array(1);
  #connected = false;
  #closed = false;
  #u64 = new BigUint64Array(1);
  #len = new BigUint64Array(1);
  #type = new Int32Array(1);
  #value = new Uint8Array(1024);
  #keyName = new Uint8Array(CMAP_KEYNAME_MAXLEN + 1);
  #decoder = new TextDecoder();

  constructor(lib: CmapLib) {
    this.#lib = lib;
    this.#connect();
  }

  get connected(): boolean {
    return this.#connected;
  }

  #connect(): void {
    const handle = new BigUint64Array(1);
    check(this.#lib.cmap_initialize(handle), "cmap_initialize", "cmap");
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
    check(result, fn, key);
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
      if (this.#type[0] !== CMAP_VALUETYPE_STRING) {
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
  return new NativeCmap(cmapLib());
}
