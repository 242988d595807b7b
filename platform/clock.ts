// CLOCK_MONOTONIC, the clock of libsam's last_updated (cs_timestamp_get()) and of corosync's
// watchdog. performance.now() is monotonic but counts from this process's start on Deno and
// Bun, so it is placed on CLOCK_MONOTONIC once, by an offset; an exact reading through libc
// places it to the ns where FFI is at hand.
import { readFileSync } from "node:fs";
import process from "node:process";
import { CsError, SamError } from "../errors.ts";
import { libc } from "./libc.ts";
import { runtime } from "./runtime.ts";

const CLOCK_MONOTONIC = 1;
const timespec = new BigInt64Array(2);
let offsetNs: number | undefined;

/**
 * Where performance.now() 0 lies on CLOCK_MONOTONIC, in ns. /proc/uptime counts from boot
 * in steps of 10 ms (as CLOCK_BOOTTIME, which differs from CLOCK_MONOTONIC only by the time
 * the machine was suspended); an exact reading can be given with {@linkcode calibrateMonotonic}.
 */
function offset(): number {
  if (offsetNs !== undefined) return offsetNs;
  if (runtime.hrtimeIsMonotonic) {
    calibrateMonotonic(process.hrtime.bigint());
    return offsetNs!;
  }
  let uptimeNs = 0;
  try {
    uptimeNs = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]) * 1e9;
  } catch {
    // No /proc (or no read permission): the times stay relative to this process's start.
  }
  offsetNs = Number.isFinite(uptimeNs) ? Math.max(0, uptimeNs - performance.now() * 1e6) : 0;
  return offsetNs;
}

/** Places performance.now() on CLOCK_MONOTONIC from one exact reading of it (`nowNs`). */
export function calibrateMonotonic(nowNs: bigint): void {
  offsetNs = Number(nowNs) - performance.now() * 1e6;
}

/** The CLOCK_MONOTONIC time in ns of `at`, a performance.now() value in ms. */
export function monotonicNs(at: number): number {
  return Math.round(offset() + at * 1e6);
}

/**
 * CLOCK_MONOTONIC now, read exactly through libc (clock_gettime): what libsam stamps
 * `last_updated` with and corosync's watchdog compares it with.
 *
 * @returns Nanoseconds since an arbitrary point (the boot, on Linux).
 * @throws {SamError} `CS_ERR_LIBRARY` when FFI is unavailable.
 */
export function readClockMonotonic(): bigint {
  if (libc().clock_gettime(CLOCK_MONOTONIC, timespec) !== 0) {
    throw new SamError(CsError.CS_ERR_LIBRARY, "clock_gettime(CLOCK_MONOTONIC) failed");
  }
  return timespec[0] * 1_000_000_000n + timespec[1];
}
