/**
 * How an instance hears its warning signal: listeners, as `signal(3)` handlers are to a
 * libsam child.
 *
 * @module
 */
import { instanceContext } from "./instance/context.ts";
import { INST_LISTENERS } from "./shared_memory/layout.ts";
import { describe } from "./shared_memory/bytes.ts";
import { runtime } from "./platform/runtime.ts";
import { SIGKILL, signalNumber } from "./shared_memory/signals.ts";
import { CsError, SamError } from "./errors.ts";

function listenableSignal(signal: unknown, fn: unknown): number {
  const signo = signalNumber(signal);
  if (signo === 0 || signo === SIGKILL || signal === "SIGSTOP") {
    throw new SamError(
      CsError.CS_ERR_INVALID_PARAM,
      `signal must be a name of a signal that can be caught, not ${describe(signal)}`,
    );
  }
  if (typeof fn !== "function") {
    throw new SamError(CsError.CS_ERR_INVALID_PARAM, `fn must be a function, not ${describe(fn)}`);
  }
  return signo;
}

/**
 * Listens for a signal: in an instance, the supervisor's warning (what `signal(3)` is to a
 * libsam child); on the main thread outside supervision, the real process signal.
 *
 * @param signal A signal name such as `"SIGTERM"`.
 * @param fn Called when the signal arrives.
 * @throws {SamError} `CS_ERR_INVALID_PARAM` for an unknown or uncatchable signal or a non-function.
 *
 * @example Save state when warned
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * sam.addSignalListener("SIGTERM", () => sam.dataStore(new TextEncoder().encode("bye")));
 * ```
 */
export function addSignalListener(signal: string, fn: () => void): void {
  const signo = listenableSignal(signal, fn);
  const context = instanceContext();
  if (context === undefined) return runtime.addProcessSignalListener(signal, fn);
  let set = context.signalListeners.get(signo);
  if (set === undefined) context.signalListeners.set(signo, set = new Set());
  set.add(fn);
  Atomics.or(context.block, INST_LISTENERS, 1 << signo);
}

/**
 * Stops listening for a signal added with {@linkcode addSignalListener}.
 *
 * @param signal The signal name.
 * @param fn The listener that was added.
 * @throws {SamError} `CS_ERR_INVALID_PARAM` for an unknown or uncatchable signal or a non-function.
 *
 * @example
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * const onWarn = () => {};
 * sam.addSignalListener("SIGTERM", onWarn);
 * sam.removeSignalListener("SIGTERM", onWarn);
 * ```
 */
export function removeSignalListener(signal: string, fn: () => void): void {
  const signo = listenableSignal(signal, fn);
  const context = instanceContext();
  if (context === undefined) return runtime.removeProcessSignalListener(signal, fn);
  const set = context.signalListeners.get(signo);
  if (set === undefined || !set.delete(fn) || set.size > 0) return;
  context.signalListeners.delete(signo);
  Atomics.and(context.block, INST_LISTENERS, ~(1 << signo));
}
