// The protocol on the shared words (laid out in layout.ts): every Atomics operation on an
// instance block is here, and on a data header in data_protocol.ts, each as a named operation
// of the side that performs it. Other files call these and never touch the words themselves.
//
// Every sequence writes its data first, then publishes with Atomics.store/add, then wakes the
// other side with Atomics.notify. Neither side trusts the other: a word that says something
// impossible is read as "nothing happened". Only an instance's thread blocks in Atomics.wait;
// the supervisor's main thread waits with Atomics.waitAsync.
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
// Health check (instance -> supervisor; timed in supervisor/health.ts):
//   ++INST_HC_COUNT; if INST_HC_WANT: INST_HC_WANT = 0; notify(INST_HC_COUNT)
// A reload's instance (supervisor -> instance), activated with INST_DATA = DATA_PENDING: it
// reads the stored data as the instance it replaces stores it; once that one ended and the
// data moved into its region: INST_DATA = DATA_GRANTED; notify(INST_DATA) (or DATA_REFUSED
// for one that will never take over). Its start() waits for that.
import * as L from "./layout.ts";
import { CsError, SamError } from "../errors.ts";

/**
 * Waits without blocking until `words[index]` is no longer `value` (or `timeoutMs` passed, or
 * a wake-up came for another reason), then calls `then()`, which reads the words again: "ok",
 * "not-equal" and "timed-out" all mean "look again", so no result is trusted on its own.
 */
function afterChange(
  words: Int32Array,
  index: number,
  value: number,
  then: () => void,
  timeoutMs?: number,
): void {
  const result = Atomics.waitAsync(words, index, value, timeoutMs);
  if (result.async) void result.value.then(then);
  else then();
}

/** Resolves once `ready(words[index])` holds, waiting without blocking the event loop. */
async function until(
  words: Int32Array,
  index: number,
  ready: (value: number) => boolean,
): Promise<void> {
  for (;;) {
    const value = Atomics.load(words, index);
    if (ready(value)) return;
    // With a timeout, so that even a lost wake-up only costs time.
    await new Promise<void>((resolve) => afterChange(words, index, value, resolve, 100));
  }
}

/** Checks a result of Atomics.wait: the three it may give all mean "read the words again". */
export function waited(result: string): void {
  if (result !== "ok" && result !== "not-equal" && result !== "timed-out") {
    throw new SamError(CsError.CS_ERR_LIBRARY, `Atomics.wait returned ${result}`);
  }
}

// ---- The instance block: the instance's side ----

/** Writes `block[index] = value`, then publishes the change; returns its sequence number. */
function publishChange(block: Int32Array, index: number, value: number): number {
  Atomics.store(block, index, value);
  const seq = (Atomics.add(block, L.INST_EVENT_SEQ, 1) + 1) | 0;
  Atomics.notify(block, L.INST_EVENT_SEQ);
  return seq;
}

/** register() returned: the supervisor moves the instance on and prepares a standby. */
export function announceRegistered(block: Int32Array): void {
  publishChange(block, L.INST_REGISTERED, 1);
}

/** start() waits for quorum (libsam's record says so meanwhile). */
export function announceWaitingForQuorum(block: Int32Array): void {
  publishChange(block, L.INST_HC_STATE, L.HC_WAITING_QUORUM);
}

/** Health checking started; starting counts as a health check. Returns the change's number. */
export function announceStarted(block: Int32Array): number {
  Atomics.add(block, L.INST_HC_COUNT, 1);
  return publishChange(block, L.INST_HC_STATE, L.HC_STARTED);
}

/** Health checking stopped. Returns the change's number. */
export function announceStopped(block: Int32Array): number {
  return publishChange(block, L.INST_HC_STATE, L.HC_STOPPED);
}

/** markFailed(): the supervisor terminates this instance and switches the policy to quit. */
export function announceMarkFailed(block: Int32Array): void {
  Atomics.or(block, L.INST_FLAGS, L.FLAG_MARK_FAILED);
  Atomics.add(block, L.INST_EVENT_SEQ, 1);
  Atomics.notify(block, L.INST_EVENT_SEQ);
}

/** One health check: counted, and the supervisor woken only when it asked to be. */
export function sendHealthCheck(block: Int32Array): void {
  Atomics.add(block, L.INST_HC_COUNT, 1);
  if (Atomics.load(block, L.INST_HC_WANT) !== 0) {
    // Published by the add above; clear the request, then wake the supervisor.
    Atomics.store(block, L.INST_HC_WANT, 0);
    Atomics.notify(block, L.INST_HC_COUNT);
  }
}

/** Whether health checking is started, as this block says (either side reads it). */
export function healthStarted(block: Int32Array): boolean {
  return Atomics.load(block, L.INST_HC_STATE) === L.HC_STARTED;
}

/** Whether the supervisor says the cluster is quorate (always, without QUORUM). */
export function isQuorate(block: Int32Array): boolean {
  return Atomics.load(block, L.INST_QUORATE) === 1;
}

/** Resolves once the supervisor says the cluster is quorate. */
export function untilQuorate(block: Int32Array): Promise<void> {
  return until(block, L.INST_QUORATE, (quorate) => quorate === 1);
}

/** Resolves once the supervisor acknowledged change `seq` (it wrote the record). */
export function untilAcknowledged(block: Int32Array, seq: number): Promise<void> {
  return until(block, L.INST_ACK, (ack) => ack - seq >= 0);
}

/**
 * Blocks the instance's thread (never the main thread's) until the supervisor acknowledged
 * `seq`, for at most `timeoutMs`.
 */
export function waitForAck(block: Int32Array, seq: number, timeoutMs: number): void {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const ack = Atomics.load(block, L.INST_ACK);
    const left = until - performance.now();
    if (ack - seq >= 0 || left <= 0) return;
    waited(Atomics.wait(block, L.INST_ACK, ack, left));
  }
}

/** The warning signal the instance is warned with from now on. */
export function setWarnSignal(block: Int32Array, signo: number): void {
  Atomics.store(block, L.INST_WARN_SIGNAL, signo);
}

/** The instance listens for signal `signo` (or, with `listening` false, no longer does). */
export function setListening(block: Int32Array, signo: number, listening: boolean): void {
  if (listening) Atomics.or(block, L.INST_LISTENERS, 1 << signo);
  else Atomics.and(block, L.INST_LISTENERS, ~(1 << signo));
}

/**
 * Whether the instance acts on the stored data: false for a reload's instance until the one it
 * replaces has ended (its reads then see that one's stores, its own stores are refused).
 */
export function dataGranted(block: Int32Array): boolean {
  return Atomics.load(block, L.INST_DATA) === L.DATA_GRANTED;
}

/**
 * Waits without blocking until the supervisor granted or refused the stored data to this
 * reload's instance; resolves whether it was granted.
 */
export async function untilDataDecided(block: Int32Array): Promise<boolean> {
  await until(block, L.INST_DATA, (word) => word !== L.DATA_PENDING);
  return Atomics.load(block, L.INST_DATA) === L.DATA_GRANTED;
}

/** A standby read the stored data before its activation. */
export function markReplayRead(block: Int32Array): void {
  Atomics.store(block, L.INST_REPLAY_READ, 1);
}

/** How far a standby's pre-run got: PRERUN_AT_REGISTER or PRERUN_FAILED. */
export function setPrerun(block: Int32Array, state: number): void {
  Atomics.store(block, L.INST_PRERUN, state);
}

/** What a waiting Worker finds: still waiting, told to leave, or the id it is activated as. */
export type Activation = "waiting" | "leave" | number;

function activation(block: Int32Array): Activation {
  const word = Atomics.load(block, L.INST_ACTIVATE);
  if (word === L.ACTIVATE_GO) return Atomics.load(block, L.INST_ID);
  return word === L.ACTIVATE_WAITING ? "waiting" : "leave";
}

/** Blocks the waiting Worker's thread for at most `timeoutMs` until it is activated or told to leave. */
export function waitForActivation(block: Int32Array, timeoutMs: number): Activation {
  waited(Atomics.wait(block, L.INST_ACTIVATE, L.ACTIVATE_WAITING, timeoutMs));
  return activation(block);
}

/** Calls `then` once the waiting Worker is activated or told to leave, without blocking. */
export function whenActivated(
  block: Int32Array,
  then: (activation: "leave" | number) => void,
  timeoutMs: number,
): void {
  const look = (): void => {
    const now = activation(block);
    if (now !== "waiting") return then(now);
    afterChange(block, L.INST_ACTIVATE, L.ACTIVATE_WAITING, look, timeoutMs);
  };
  look();
}

/**
 * Tells the supervisor that the instance's JavaScript ended with `code`, then waits (at most
 * `timeoutMs`) until it has acted on that: a Worker that tears down at once competes for the
 * CPU with the next instance's start.
 */
export function announceEnd(block: Int32Array, code: number, timeoutMs: number): void {
  if (Atomics.load(block, L.INST_FLAGS) & L.FLAG_ENDED) return;
  Atomics.store(block, L.INST_EXIT_CODE, code);
  Atomics.or(block, L.INST_FLAGS, L.FLAG_ENDED);
  Atomics.add(block, L.INST_EVENT_SEQ, 1);
  Atomics.notify(block, L.INST_EVENT_SEQ);
  // "ok" (seen), "not-equal" (seen before) and "timed-out" (a busy supervisor) all mean: go on.
  waited(Atomics.wait(block, L.INST_END_SEEN, 0, timeoutMs));
}

// ---- The instance block: the supervisor's side ----

/**
 * Makes a waiting Worker instance `id`, with the warning signal and quorum it starts with;
 * `granted` false for a reload's instance, which acts on the stored data only once
 * {@linkcode grantData} says so.
 */
export function activate(
  block: Int32Array,
  id: number,
  warnSignal: number,
  quorate: boolean,
  granted: boolean,
): void {
  Atomics.store(block, L.INST_WARN_SIGNAL, warnSignal);
  Atomics.store(block, L.INST_QUORATE, quorate ? 1 : 0);
  Atomics.store(block, L.INST_DATA, granted ? L.DATA_GRANTED : L.DATA_PENDING);
  Atomics.store(block, L.INST_ID, id);
  Atomics.store(block, L.INST_ACTIVATE, L.ACTIVATE_GO);
  Atomics.notify(block, L.INST_ACTIVATE);
}

/** The stored data is now the reload's instance's: its start() goes on. */
export function grantData(block: Int32Array): void {
  Atomics.store(block, L.INST_DATA, L.DATA_GRANTED);
  Atomics.notify(block, L.INST_DATA);
}

/** A reload's instance that will not take over: a start() waiting for the data gives up. */
export function refuseData(block: Int32Array): void {
  if (Atomics.load(block, L.INST_DATA) !== L.DATA_PENDING) return;
  Atomics.store(block, L.INST_DATA, L.DATA_REFUSED);
  Atomics.notify(block, L.INST_DATA);
}

/** Tells a waiting Worker it is not needed, so that terminate() gets through on Deno. */
export function dismiss(block: Int32Array): void {
  Atomics.store(block, L.INST_ACTIVATE, L.ACTIVATE_LEAVE);
  Atomics.notify(block, L.INST_ACTIVATE);
}

/** Publishes the quorum to the instance; one waiting in start() wakes. */
export function setQuorate(block: Int32Array, quorate: boolean): void {
  Atomics.store(block, L.INST_QUORATE, quorate ? 1 : 0);
  Atomics.notify(block, L.INST_QUORATE);
}

/** The warning signal the instance set last (any number: the instance may have forged it). */
export function warnSignalOf(block: Int32Array): number {
  return Atomics.load(block, L.INST_WARN_SIGNAL);
}

/** Whether the instance listens for signal `signo`. */
export function listensFor(block: Int32Array, signo: number): boolean {
  return ((Atomics.load(block, L.INST_LISTENERS) >>> signo) & 1) === 1;
}

/** What an instance has published, read once for the supervisor to act on. */
export interface Published {
  /** The change number these words are as of. */
  seq: number;
  registered: boolean;
  /** INST_HC_STATE: HC_STOPPED, HC_STARTED or HC_WAITING_QUORUM (or anything it forged). */
  health: number;
  markedFailed: boolean;
  /** The exit code once its JavaScript ended, else null. */
  ended: number | null;
}

/** The change number the instance published last. */
export function changeSeq(block: Int32Array): number {
  return Atomics.load(block, L.INST_EVENT_SEQ);
}

/** What the instance has published so far (the change number first). */
export function readPublished(block: Int32Array): Published {
  const seq = Atomics.load(block, L.INST_EVENT_SEQ);
  const flags = Atomics.load(block, L.INST_FLAGS);
  return {
    seq,
    registered: Atomics.load(block, L.INST_REGISTERED) === 1,
    health: Atomics.load(block, L.INST_HC_STATE),
    markedFailed: (flags & L.FLAG_MARK_FAILED) !== 0,
    ended: (flags & L.FLAG_ENDED) !== 0 ? Atomics.load(block, L.INST_EXIT_CODE) : null,
  };
}

/** Calls `then` once the instance published a change after `seq` (or a while passed). */
export function afterPublished(block: Int32Array, seq: number, then: () => void): void {
  afterChange(block, L.INST_EVENT_SEQ, seq, then);
}

/** Acted on and published up to `seq`: an instance waiting in start() or stop() goes on. */
export function acknowledge(block: Int32Array, seq: number): void {
  Atomics.store(block, L.INST_ACK, seq);
  Atomics.notify(block, L.INST_ACK);
}

/** The end was acted on: the ended instance may print its last output and tear down. */
export function confirmEnd(block: Int32Array): void {
  Atomics.store(block, L.INST_END_SEEN, 1);
  Atomics.notify(block, L.INST_END_SEEN);
}

/** Releases every wait of the supervisor on this block, once it is done with it. */
export function releaseWaits(block: Int32Array): void {
  Atomics.add(block, L.INST_EVENT_SEQ, 1);
  Atomics.notify(block, L.INST_EVENT_SEQ);
  Atomics.notify(block, L.INST_HC_COUNT);
}

/** How many health checks the instance has sent. */
export function healthCount(block: Int32Array): number {
  return Atomics.load(block, L.INST_HC_COUNT);
}

/** Asks the instance to wake the supervisor at its next health check (or, false, not to). */
export function wantHealthWake(block: Int32Array, want: boolean): void {
  Atomics.store(block, L.INST_HC_WANT, want ? 1 : 0);
}

/** Calls `then` once the health-check count is no longer `seen` (or a wake-up came). */
export function afterHealthCheck(block: Int32Array, seen: number, then: () => void): void {
  afterChange(block, L.INST_HC_COUNT, seen, then);
}

/** A standby's pre-run failed (it threw, or ended without waiting in register()). */
export function prerunFailed(block: Int32Array): boolean {
  return Atomics.load(block, L.INST_PRERUN) === L.PRERUN_FAILED;
}

/** A standby read the stored data before its activation. */
export function replayWasRead(block: Int32Array): boolean {
  return Atomics.load(block, L.INST_REPLAY_READ) === 1;
}
