// CLOCK_MONOTONIC, the clock of libsam's last_updated (cs_timestamp_get()) and of corosync's
// watchdog. performance.now() is monotonic but counts from this process's start on Deno and
// Bun, so it is placed on CLOCK_MONOTONIC once, by an offset.
import { readFileSync } from "node:fs";
import process from "node:process";

let offsetNs: number | undefined;

/**
 * Where performance.now() 0 lies on CLOCK_MONOTONIC, in ns. /proc/uptime counts from boot
 * in steps of 10 ms (as CLOCK_BOOTTIME, which differs from CLOCK_MONOTONIC only by the time
 * the machine was suspended); a source with ns, such as clock_gettime through FFI, can be
 * given with {@linkcode calibrateMonotonic}.
 */
function offset(): number {
  if (offsetNs !== undefined) return offsetNs;
  // Node's hrtime is CLOCK_MONOTONIC itself (Deno's and Bun's count from the process's start).
  if (!("Deno" in globalThis) && !("Bun" in globalThis)) {
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
