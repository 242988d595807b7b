// Hand-over: where the runtime cannot stop a terminated instance's thread, only the end of the
// process image stops it, so the supervisor carries its state into a new image. A strategy is
// one way to do that; the state travels as one payload, encoded here for all of them.

/** What a new image needs to go on where the old one stopped. */
export interface HandOverState {
  /** Id of the instance the new image starts. */
  nextId: number;
  /** The warning signal's number, as set by warnSignalSet(). */
  warnSignal: number;
  /** How long ago (ms) each restart within the restart window was, for the restart limits. */
  restartAges: number[];
  /** Terminated threads the runtime did not stop, so far. */
  stuckThreads: number;
  /** The stored data, byte for byte. */
  data: Uint8Array;
}

/** One way of handing over. */
export interface HandOverStrategy {
  /** What it does, for messages: "exec" or "respawn". */
  readonly kind: string;
  /**
   * Hands `state` over. Resolves null once the new image runs (this one must then end at
   * once and quietly), or with why it could not.
   */
  handOver(state: HandOverState): Promise<string | null>;
}

/** The state as bytes: one JSON line, then the data. */
export function encodeHandOver(state: HandOverState): Uint8Array {
  const { data, ...head } = state;
  const line = new TextEncoder().encode(JSON.stringify(head) + "\n");
  const bytes = new Uint8Array(line.length + data.length);
  bytes.set(line);
  bytes.set(data, line.length);
  return bytes;
}

/** The state from bytes written by {@linkcode encodeHandOver}; null when they are not that. */
export function decodeHandOver(bytes: Uint8Array): HandOverState | null {
  try {
    const newline = bytes.indexOf(10);
    if (newline < 0) return null;
    const head = JSON.parse(new TextDecoder().decode(bytes.subarray(0, newline)));
    const ages = head.restartAges;
    if (
      !Number.isSafeInteger(head.nextId) || head.nextId < 1 || !Number.isInteger(head.warnSignal) ||
      !Array.isArray(ages) || !ages.every((a) => typeof a === "number" && a >= 0) ||
      !Number.isSafeInteger(head.stuckThreads) || head.stuckThreads < 0
    ) return null;
    return {
      nextId: head.nextId,
      warnSignal: head.warnSignal,
      restartAges: ages,
      stuckThreads: head.stuckThreads,
      data: bytes.slice(newline + 1),
    };
  } catch {
    return null;
  }
}
