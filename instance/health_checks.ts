// The checks of a health-check callback (libsam's sam_hc_callback_register): while health
// checking is started, a health check every quarter of the time interval, and the callback
// asked every time interval; its first unhealthy answer stops both, so that the deadline
// passes and recovery follows.
import { healthStarted, sendHealthCheck } from "../shared_memory/protocol.ts";

/** A health-check callback: healthy is `0` or `true`; anything else, a throw or a rejection is not. */
export type HealthCheckCallback = () => number | boolean | Promise<number | boolean>;

/**
 * Starts the checks of the callback `callback()` returns (read at each ask, so that
 * finalize() ends them); none when there is no callback. Returns what stops them.
 */
export function callbackChecks(
  block: Int32Array,
  interval: number,
  callback: () => HealthCheckCallback | null,
): () => void {
  if (callback() === null) return () => {};
  let timers: ReturnType<typeof setInterval>[] = [];
  const stop = () => {
    for (const t of timers) clearInterval(t);
    timers = [];
  };
  const send = () => sendHealthCheck(block);
  const ask = async () => {
    const cb = callback();
    if (cb === null) return;
    let healthy = false;
    try {
      const answer = await cb();
      healthy = answer === 0 || answer === true;
    } catch {
      healthy = false;
    }
    if (!healthy && healthStarted(block)) stop();
  };
  timers = [setInterval(send, Math.max(1, interval / 4)), setInterval(ask, Math.max(1, interval))];
  return stop;
}
