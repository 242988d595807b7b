// What passes between the supervisor and an instance outside the shared words: what a Worker
// is given when it starts, and the two messages. Neither side trusts the other: a message that
// is not well formed is read as no message.
import type { DataRegionHandles } from "./region.ts";

/** What the supervisor gives every Worker it starts (its `workerData`). */
export interface InstanceData {
  /** URL of the application module. */
  mainModule: string;
  /** The instance block (see layout.ts). */
  block: SharedArrayBuffer;
  /** The data region this Worker acts on once activated (a standby's is prepared ahead). */
  region: DataRegionHandles;
  /** The supervisor's time interval and policy: authoritative in the instance. */
  timeInterval: number;
  recoveryPolicy: number;
  /** Run the application ahead, up to its register(), before the activation. */
  prerun: boolean;
  /**
   * For such a standby, the data region as it is now, for its reads before activation; for a
   * reload's instance, for its reads before the data is its own.
   */
  replay: DataRegionHandles | null;
}

/** Instance -> supervisor, the shim's first message: the Linux id of its thread. */
export interface ThreadMessage {
  type: "thread";
  threadId: number;
}

/** Supervisor -> instance: a warning signal for the instance's listeners. */
export interface SignalMessage {
  type: "signal";
  signal: string;
}

/** The thread id a message claims, when it is a well-formed {@linkcode ThreadMessage}. */
export function threadIdOf(message: unknown): number {
  const m = message as Partial<ThreadMessage> | null;
  const tid = m?.type === "thread" ? m.threadId : undefined;
  return typeof tid === "number" && Number.isInteger(tid) && tid > 0 ? tid : 0;
}

/** Whether `message` is a well-formed {@linkcode SignalMessage}. */
export function isSignalMessage(message: unknown): message is SignalMessage {
  const m = message as Partial<SignalMessage> | null;
  return m?.type === "signal" && typeof m.signal === "string";
}
