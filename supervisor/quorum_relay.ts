// The quorum relay: where the supervisor learns whether the cluster is quorate. A source is
// any QuorumSource (an EventTarget with `quorate` that dispatches "change"); corosync's own
// quorum service is one beside those a user gives.
import type { QuorumSource } from "../options.ts";

/** The supervisor's hold on a quorum source. */
export interface QuorumWatch {
  /** Whether the cluster is quorate now. */
  readonly quorate: boolean;
  /** Stops listening (and closes a source the relay opened itself). */
  close(): void;
}

/**
 * Follows `source`, calling `onChange` with the new value whenever it flips. A change event
 * that does not flip the value is ignored, as is a source that throws when read.
 */
export function watchQuorum(
  source: QuorumSource,
  onChange: (quorate: boolean) => void,
  owned = false,
): QuorumWatch {
  const read = (): boolean => {
    try {
      return source.quorate === true;
    } catch {
      return false;
    }
  };
  let last = read();
  const listener = () => {
    const now = read();
    if (now === last) return;
    last = now;
    onChange(now);
  };
  source.addEventListener("change", listener);
  return {
    get quorate() {
      return last;
    },
    close() {
      source.removeEventListener("change", listener);
      if (owned) (source as { close?: () => void }).close?.();
    },
  };
}
