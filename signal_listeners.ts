/**
 * How an instance hears its warning signal: listeners, as `signal(3)` handlers are to a
 * libsam child.
 *
 * @module
 */
import { handle } from "./instance/handle.ts";
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
  if (handle.context === undefined) return runtime.addProcessSignalListener(signal, fn);
  handle.listen(signo, fn, true);
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
  if (handle.context === undefined) return runtime.removeProcessSignalListener(signal, fn);
  handle.listen(signo, fn, false);
}
