// What the data calls accept, and how a wrong value reads in an error message.
import { CsError, SamError } from "../errors.ts";

/**
 * What `dataStore()` accepts: bytes (any `ArrayBufferView`, an `ArrayBuffer` or a
 * `SharedArrayBuffer`), or `null` to delete the stored data.
 */
export type StorableData = ArrayBufferView | ArrayBuffer | SharedArrayBuffer | null;

/** Turns what `dataStore()` was given into bytes, or throws CS_ERR_INVALID_PARAM. */
export function toBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer) return new Uint8Array(data);
  throw new SamError(
    CsError.CS_ERR_INVALID_PARAM,
    `data must be bytes (a Uint8Array, an ArrayBufferView or an ArrayBuffer) or null, not ${
      describe(data)
    }`,
  );
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") {
    return `${typeof value} ${String(value)}`;
  }
  if (typeof value === "object") return `a ${value.constructor?.name ?? "object"}`;
  return typeof value;
}
