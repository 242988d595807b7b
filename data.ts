/**
 * The libsam-style data calls: bytes stored by one instance and restored by the next, kept by
 * the supervisor in shared memory (libsam's `sam_data_*`).
 *
 * @module
 */
import { handle, IN_USE } from "./instance/handle.ts";
import type { InstanceContext } from "./instance/context.ts";
import { SUPERVISOR_HOLDER } from "./shared_memory/layout.ts";
import { dataGranted, markReplayRead } from "./shared_memory/protocol.ts";
import { restoreTarget } from "./shared_memory/region.ts";
import { describe, type StorableData, toBytes } from "./shared_memory/bytes.ts";
import { CsError, SamError } from "./errors.ts";

/**
 * Stores bytes that survive into the next instance (libsam's `sam_data_store`): a
 * lock-protected copy into shared memory. A store cut off at any point leaves the previous
 * value whole. `null` deletes. In an instance before `register()` it is a replay: checked,
 * but nothing is stored. A reload's instance stores only once its `start()` has returned:
 * until then the data is the running instance's.
 *
 * @param data The bytes, or null to delete.
 * @throws {SamError} `CS_ERR_BAD_HANDLE` unless initialized; `CS_ERR_INVALID_PARAM` when
 *   `data` is not bytes; `CS_ERR_NO_MEMORY` when larger than `maxDataSize`;
 *   `CS_ERR_TRY_AGAIN` in a reload's instance before its `start()` returned.
 *
 * @example
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * sam.dataStore(new TextEncoder().encode(JSON.stringify({ count: 42 })));
 * ```
 */
export function dataStore(data: StorableData): void {
  handle.require("dataStore()", IN_USE);
  const bytes = data === null ? null : toBytes(data);
  const context = handle.context;
  if (context === undefined) return handle.mainRegion.store(SUPERVISOR_HOLDER, bytes, false);
  // Before register() a replay: checked, but nothing is stored.
  if (!handle.acting) return context.region.checkFits(bytes);
  if (!dataGranted(context.block)) {
    context.region.checkFits(bytes);
    throw new SamError(
      CsError.CS_ERR_TRY_AGAIN,
      "a reload's instance stores once its start() has returned: the data is still the running instance's",
    );
  }
  context.region.store(context.id, bytes);
}

/**
 * The size in bytes of the stored data (libsam's `sam_data_getsize`).
 *
 * @returns The number of bytes stored; 0 when nothing is.
 * @throws {SamError} `CS_ERR_BAD_HANDLE` unless initialized.
 *
 * @example
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * const buffer = new Uint8Array(sam.dataGetsize());
 * ```
 */
export function dataGetsize(): number {
  handle.require("dataGetsize()", IN_USE);
  const context = handle.context;
  if (context === undefined) return handle.mainRegion.size(SUPERVISOR_HOLDER, false);
  if (context.id === 0 || !dataGranted(context.block)) return replayRead(context).length;
  return context.region.size(context.id);
}

/**
 * Copies the stored data out (libsam's `sam_data_restore`).
 *
 * @param into Where to copy; must hold at least `dataGetsize()` bytes. A new array when omitted.
 * @returns Exactly the stored bytes: a view of `into` when given.
 * @throws {SamError} `CS_ERR_INVALID_PARAM` when `into` is not a Uint8Array or too small;
 *   `CS_ERR_BAD_HANDLE` unless initialized.
 *
 * @example
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * const saved = sam.dataRestore();
 * const state = saved.length ? JSON.parse(new TextDecoder().decode(saved)) : { count: 0 };
 * ```
 */
export function dataRestore(into?: Uint8Array): Uint8Array {
  if (into !== undefined && !(into instanceof Uint8Array)) {
    throw new SamError(
      CsError.CS_ERR_INVALID_PARAM,
      `into must be a Uint8Array, not ${describe(into)}`,
    );
  }
  handle.require("dataRestore()", IN_USE);
  const context = handle.context;
  if (context === undefined) return handle.mainRegion.restore(SUPERVISOR_HOLDER, into, false);
  if (context.id === 0 || !dataGranted(context.block)) return copyInto(replayRead(context), into);
  return context.region.restore(context.id, into);
}

/**
 * A read of a standby before its activation, or of a reload's instance before the data is its
 * own: what is stored now, copied without the lock (neither may take it), and marked, so that
 * the supervisor does not activate a standby whose reads the data has since outdated.
 */
function replayRead(context: InstanceContext): Uint8Array {
  markReplayRead(context.block);
  return context.replayRegion!.snapshot();
}

function copyInto(bytes: Uint8Array, into: Uint8Array | undefined): Uint8Array {
  if (into === undefined) return bytes;
  const out = restoreTarget(into, bytes.length);
  out.set(bytes);
  return out;
}
