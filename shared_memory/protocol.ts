// The protocol between the supervisor and an instance, both sides in one place: what a Worker
// is given, the messages, and the sequences on the instance block (words in _layout.ts).
//
// Every sequence writes its data first, then publishes with Atomics.store/add, then wakes the
// other side with Atomics.notify. Neither side trusts the other: a word that says something
// impossible is read as "nothing happened".
//
// Activation (supervisor -> waiting Worker):
//   INST_ID = id; INST_ACTIVATE = ACTIVATE_GO; notify(INST_ACTIVATE)
//   or, for a Worker not needed: INST_ACTIVATE = ACTIVATE_LEAVE; notify; terminate()
// A change (instance -> supervisor: register, start, stop, markFailed):
//   word = value; seq = ++INST_EVENT_SEQ; notify(INST_EVENT_SEQ)
//   the supervisor acts, writes the state record, then INST_ACK = seq; notify(INST_ACK)
// End (instance -> supervisor, before the runtime tears the Worker down):
//   INST_EXIT_CODE = code; INST_FLAGS |= FLAG_ENDED; ++INST_EVENT_SEQ; notify
//   the supervisor acts (starts the next instance), then INST_END_SEEN = 1; notify
// Health check (instance -> supervisor), see _health.ts:
//   ++INST_HC_COUNT; if INST_HC_WANT: INST_HC_WANT = 0; notify(INST_HC_COUNT)
import {
  ACTIVATE_GO,
  ACTIVATE_LEAVE,
  FLAG_ENDED,
  INST_ACK,
  INST_ACTIVATE,
  INST_END_SEEN,
  INST_EVENT_SEQ,
  INST_EXIT_CODE,
  INST_FLAGS,
  INST_HC_COUNT,
  INST_HC_WANT,
  INST_ID,
} from "./layout.ts";
import type { DataRegionHandles } from "./region.ts";

/** What the supervisor gives every Worker it starts (its `workerData`). */
export interface InstanceData {
  /** URL of the application module. */
  mainModule: string;
  /** The instance block (see _layout.ts). */
  block: SharedArrayBuffer;
  /** The data region this Worker acts on once activated (a standby's is prepared ahead). */
  region: DataRegionHandles;
  /** The supervisor's time interval and policy: authoritative in the instance. */
  timeInterval: number;
  recoveryPolicy: number;
  /** Run the application ahead, up to its register(), before the activation. */
  prerun: boolean;
  /** For such a standby, the data region as it is now, for its reads before activation. */
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

/**
 * Waits without blocking until `block[index]` is no longer `value` (or `timeoutMs` passed, or
 * a wake-up came for another reason), then calls `then()`, which reads the words again: "ok",
 * "not-equal" and "timed-out" all mean "look again", so no result is trusted on its own.
 */
export function _afterChange(
  block: Int32Array,
  index: number,
  value: number,
  then: () => void,
  timeoutMs?: number,
): void {
  const result = Atomics.waitAsync(block, index, value, timeoutMs);
  if (result.async) void result.value.then(then);
  else then();
}

/** Resolves once `ready(block[index])` holds, waiting without blocking the event loop. */
export async function _until(
  block: Int32Array,
  index: number,
  ready: (value: number) => boolean,
): Promise<void> {
  for (;;) {
    const value = Atomics.load(block, index);
    if (ready(value)) return;
    // With a timeout, so that even a lost wake-up only costs time.
    await new Promise<void>((resolve) => _afterChange(block, index, value, resolve, 100));
  }
}

// ---- The instance's side ----

/** Writes `block[index] = value`, then publishes the change; returns its sequence number. */
export function publishChange(block: Int32Array, index: number, value: number): number {
  Atomics.store(block, index, value);
  const seq = (Atomics.add(block, INST_EVENT_SEQ, 1) + 1) | 0;
  Atomics.notify(block, INST_EVENT_SEQ);
  return seq;
}

/**
 * Blocks the instance's thread (never the main thread's) until the supervisor acknowledged
 * `seq`, for at most `timeoutMs`.
 */
export function waitForAck(block: Int32Array, seq: number, timeoutMs: number): void {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const ack = Atomics.load(block, INST_ACK);
    const left = until - performance.now();
    if (ack - seq >= 0 || left <= 0) return;
    const result = Atomics.wait(block, INST_ACK, ack, left);
    if (result !== "ok" && result !== "not-equal" && result !== "timed-out") return;
  }
}

/** One health check: counted, and the supervisor woken only when it asked to be. */
export function sendHealthCheck(block: Int32Array): void {
  Atomics.add(block, INST_HC_COUNT, 1);
  if (Atomics.load(block, INST_HC_WANT) !== 0) {
    // Published by the add above; clear the request, then wake the supervisor.
    Atomics.store(block, INST_HC_WANT, 0);
    Atomics.notify(block, INST_HC_COUNT);
  }
}

/**
 * Tells the supervisor that the instance's JavaScript ended with `code`, then waits (at most
 * `timeoutMs`) until it has acted on that: a Worker that tears down at once competes for the
 * CPU with the next instance's start.
 */
export function announceEnd(block: Int32Array, code: number, timeoutMs: number): void {
  if (Atomics.load(block, INST_FLAGS) & FLAG_ENDED) return;
  Atomics.store(block, INST_EXIT_CODE, code);
  Atomics.or(block, INST_FLAGS, FLAG_ENDED);
  Atomics.add(block, INST_EVENT_SEQ, 1);
  Atomics.notify(block, INST_EVENT_SEQ);
  // "ok" (seen), "not-equal" (seen before) and "timed-out" (a busy supervisor) all mean: go on.
  Atomics.wait(block, INST_END_SEEN, 0, timeoutMs);
}

// ---- The supervisor's side ----

/** Makes a waiting Worker instance `id`. */
export function activate(block: Int32Array, id: number): void {
  Atomics.store(block, INST_ID, id);
  Atomics.store(block, INST_ACTIVATE, ACTIVATE_GO);
  Atomics.notify(block, INST_ACTIVATE);
}

/** Tells a waiting Worker it is not needed, so that terminate() gets through on Deno. */
export function dismiss(block: Int32Array): void {
  Atomics.store(block, INST_ACTIVATE, ACTIVATE_LEAVE);
  Atomics.notify(block, INST_ACTIVATE);
}

/** Acted on and published up to `seq`: an instance waiting in start() or stop() goes on. */
export function acknowledge(block: Int32Array, seq: number): void {
  Atomics.store(block, INST_ACK, seq);
  Atomics.notify(block, INST_ACK);
}

/** The end was acted on: the ended instance may print its last output and tear down. */
export function confirmEnd(block: Int32Array): void {
  Atomics.store(block, INST_END_SEEN, 1);
  Atomics.notify(block, INST_END_SEEN);
}

/** Releases every wait of the supervisor on this block, once it is done with it. */
export function releaseWaits(block: Int32Array): void {
  Atomics.add(block, INST_EVENT_SEQ, 1);
  Atomics.notify(block, INST_EVENT_SEQ);
  Atomics.notify(block, INST_HC_COUNT);
}
