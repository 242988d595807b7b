// The exec hand-over: the same process (same pid, stdio and command line) in a new image, by
// execve. The stuck thread ends with the old image, and with it everything it held.
import { canExecInPlace, execInPlace, takeHandOver } from "./exec.ts";
import {
  decodeHandOver,
  encodeHandOver,
  type HandOverState,
  type HandOverStrategy,
} from "./state.ts";

/** Replaces the process image in place, carrying the state in a memfd. */
export const execHandOver: HandOverStrategy = {
  kind: "exec",
  handOver(state: HandOverState): Promise<string | null> {
    try {
      execInPlace(encodeHandOver(state));
    } catch (error) {
      return Promise.resolve(String(error));
    }
  },
};

/** Why exec in place cannot be used here, or null when it can. */
export function execUnavailable(): string | null {
  return canExecInPlace()
    ? null
    : "exec in place needs FFI (Deno: --allow-ffi) on Linux, which this process does not have";
}

/** The state an earlier image of this process handed over, taken once; null if none. */
export function takeExecHandOver(): HandOverState | null {
  const bytes = takeHandOver();
  return bytes === null ? null : decodeHandOver(bytes);
}
