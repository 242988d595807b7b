// Argument checks shared by initialize() and supervise(), with libsam's error code for each.
import { describe } from "./bytes.ts";
import { signalNumber } from "./signals.ts";
import { CsError, SamError } from "../errors.ts";
import type { SamOptions } from "../options.ts";
import { RecoveryPolicy } from "../policy.ts";

/** The bits of a recovery policy that select the action (`QUIT` or `RESTART`). */
export const ACTION_MASK = 0x07;
/** Every bit of a recovery policy libsam knows. */
const KNOWN_BITS = ACTION_MASK | RecoveryPolicy.QUORUM | RecoveryPolicy.CMAP;

/** Whether `policy`'s action is RESTART. */
export function restarts(policy: number): boolean {
  return (policy & ACTION_MASK) === RecoveryPolicy.RESTART;
}

/** C's INT_MAX: libsam's time_interval is an int. */
const INT_MAX = 2 ** 31 - 1;

function invalid(detail: string): SamError {
  return new SamError(CsError.CS_ERR_INVALID_PARAM, detail);
}

export function checkTimeInterval(value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > INT_MAX) {
    throw invalid(
      `timeInterval must be a finite number of ms from 0 to ${INT_MAX}, not ${describe(value)}`,
    );
  }
  return value;
}

export function checkPolicy(value: unknown): number {
  const action = typeof value === "number" ? value & ACTION_MASK : 0;
  // The range first: bit operators see only the low 32 bits (2 ** 32 + 2 would pass as 2).
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > KNOWN_BITS ||
    (value & ~KNOWN_BITS) !== 0 ||
    (action !== RecoveryPolicy.QUIT && action !== RecoveryPolicy.RESTART)
  ) {
    throw invalid(
      `recoveryPolicy must be QUIT or RESTART, optionally with QUORUM or CMAP, not ${
        describe(value)
      }`,
    );
  }
  return value;
}

function checkCount(options: Record<string, unknown>, name: string, max: number): void {
  const v = options[name];
  if (v === undefined) return;
  if (
    typeof v !== "number" || Number.isNaN(v) || v < 0 || v > max ||
    (v !== Infinity && !Number.isInteger(v))
  ) {
    throw invalid(`${name} must be a whole number from 0 to ${max}, not ${describe(v)}`);
  }
}

// A QUORUM policy without a source is not bad input: it asks corosync (corosync/connect.ts),
// as libsam does.
export function checkOptions(options: unknown, _policy: number): SamOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object") {
    throw invalid(`options must be an object, not ${describe(options)}`);
  }
  const o = options as Record<string, unknown>;
  checkCount(o, "maxDataSize", 2 ** 32);
  checkCount(o, "maxRestarts", Infinity);
  checkCount(o, "restartWindow", INT_MAX);
  checkCount(o, "restartDelay", INT_MAX);
  checkCount(o, "restartDelayMax", INT_MAX);
  checkCount(o, "reloadTimeout", INT_MAX);
  const reload = o.reloadSignal;
  if (
    reload !== undefined && reload !== null &&
    (!signalNumber(reload) ||
      ["SIGKILL", "SIGSTOP", "SIGINT", "SIGTERM"].includes(reload as string))
  ) {
    throw invalid(
      `reloadSignal must be a signal name a process can catch (not SIGKILL, SIGSTOP, or SIGINT and SIGTERM, which stop supervision), or null, not ${
        describe(reload)
      }`,
    );
  }
  if (o.stateFile !== undefined && (typeof o.stateFile !== "string" || o.stateFile === "")) {
    throw invalid(`stateFile must be a path, not ${describe(o.stateFile)}`);
  }
  if (o.log !== undefined && typeof o.log !== "boolean" && typeof o.log !== "function") {
    throw invalid(`log must be a boolean or a function, not ${describe(o.log)}`);
  }
  if (o.onEvent !== undefined && typeof o.onEvent !== "function") {
    throw invalid(`onEvent must be a function, not ${describe(o.onEvent)}`);
  }
  for (const flag of ["standby", "prerun"]) {
    if (o[flag] !== undefined && typeof o[flag] !== "boolean") {
      throw invalid(`${flag} must be a boolean, not ${describe(o[flag])}`);
    }
  }
  if (
    o.handOver !== undefined && o.handOver !== "exec" && o.handOver !== "respawn" &&
    o.handOver !== "none"
  ) {
    throw invalid(`handOver must be "exec", "respawn" or "none", not ${describe(o.handOver)}`);
  }
  const quorum = o.quorum as { quorate?: unknown; addEventListener?: unknown } | undefined;
  if (
    quorum !== undefined &&
    (typeof quorum !== "object" || quorum === null ||
      typeof quorum.addEventListener !== "function" || typeof quorum.quorate !== "boolean")
  ) {
    throw invalid(`quorum must be an EventTarget with a boolean quorate, not ${describe(quorum)}`);
  }
  const record = o.corosyncRecord;
  if (record !== undefined && record !== "auto" && record !== "required" && record !== "off") {
    throw invalid(`corosyncRecord must be "auto", "required" or "off", not ${describe(record)}`);
  }
  return options as SamOptions;
}
