// Waiting for what an ended instance still holds: a runtime closes a Worker's sockets while it
// tears the Worker down, some time after its JavaScript ended (on Bun even after the Worker's
// exit event), and the next instance of a service on a fixed port must not meet its listening
// socket. What to do next is a pure function of what /proc showed; afterRelease() reads it and
// keeps the clock.
//
// Reading the descriptors is cheap and goes on every recovery's path; reading the TCP tables
// (to tell a listening socket from others) is not (a busy service leaves thousands of closed
// connections there), so it is read at most once per recovery, and only when sockets the
// instance opened are still open: then only the listening ones are waited for, by their
// descriptors (a runtime's own sockets, such as those of a new Worker, hold nothing up).
import { listeningSockets, socketsOfThisProcess } from "../platform/listening_sockets.ts";

/** Longest the next instance waits for them: past it, it starts and a line says so. */
export const RELEASE_LIMIT_MS = 2000;
/** How often the descriptors are read again while waiting. */
export const RELEASE_POLL_MS = 2;

/** The sockets an instance opened: held at its end, not at its activation. */
export function socketsLeft(
  atActivation: ReadonlySet<number>,
  atEnd: ReadonlySet<number>,
): Set<number> {
  const left = new Set<number>();
  for (const inode of atEnd) if (!atActivation.has(inode)) left.add(inode);
  return left;
}

/** What the engine knows while an ended instance's sockets may still be open. */
export interface ReleaseFacts {
  /** The sockets the instance opened (see {@linkcode socketsLeft}). */
  left: ReadonlySet<number>;
  /** The process's sockets now. */
  open: ReadonlySet<number>;
  /** The listening sockets, once read; null before. */
  listening: ReadonlySet<number> | null;
  /** How long the next instance has waited so far (ms). */
  waitedMs: number;
  /** The longest wait. */
  limitMs?: number;
}

/** What to do next. */
export type ReleaseStep =
  | { action: "start" }
  | { action: "read-listening" }
  | { action: "wait"; ms: number }
  | { action: "give-up"; open: number };

/**
 * Whether the next instance can start: once none of the sockets the ended instance opened is
 * open, or none of those still open listens; at the limit in any case.
 */
export function releaseStep(facts: ReleaseFacts): ReleaseStep {
  const limit = facts.limitMs ?? RELEASE_LIMIT_MS;
  let held = 0;
  for (const inode of facts.left) {
    if (!facts.open.has(inode)) continue;
    if (facts.listening !== null && !facts.listening.has(inode)) continue;
    held++;
  }
  if (held === 0) return { action: "start" };
  if (facts.listening === null) return { action: "read-listening" };
  if (facts.waitedMs >= limit) return { action: "give-up", open: held };
  return { action: "wait", ms: RELEASE_POLL_MS };
}

/**
 * The sockets opened since `before` (the process's sockets at an instance's activation) and
 * still open now: at an instance's end, the ones it may still hold. Null: unknown.
 */
export function openedSince(before: ReadonlySet<number> | null): Set<number> | null {
  const now = before === null ? null : socketsOfThisProcess();
  return before === null || now === null ? null : socketsLeft(before, now);
}

/** What the wait needs of the ended instance. */
export interface Released {
  readonly id: number;
  readonly exitCode: number | null;
  /** The sockets it opened and had not closed at its end (null: unknown). */
  readonly socketsLeft: Set<number> | null;
  afterExit(ms: number, exited: () => void, late: () => void): void;
}

/**
 * Calls `start` after `delayMs`, once the sockets `ended` opened are closed, or those still
 * open do not listen (a service on a fixed port must not meet its predecessor's socket);
 * where /proc cannot be read, once its Worker exited; RELEASE_LIMIT_MS after the delay at the
 * latest. An aborted `signal` ends the wait.
 */
export function afterRelease(
  ended: Released,
  delayMs: number,
  signal: AbortSignal,
  start: () => void,
): void {
  const left = ended.socketsLeft;
  const since = performance.now() + delayMs;
  const step = (listening: Set<number> | null): void => {
    if (signal.aborted) return;
    const waited = performance.now() - since;
    if (left === null) {
      const exited = () => signal.aborted || start();
      return ended.afterExit(Math.max(0, RELEASE_LIMIT_MS - waited), exited, () => {});
    }
    const open = socketsOfThisProcess() ?? new Set<number>();
    const next = releaseStep({ left, open, listening, waitedMs: waited });
    // Unreadable tables: every socket still open counts as listening.
    if (next.action === "read-listening") return step(listeningSockets() ?? left);
    if (next.action === "wait") return void setTimeout(() => step(listening), next.ms);
    if (next.action === "give-up") {
      console.error(
        `sam: instance ${ended.id} still holds ${next.open} listening socket(s) after ${RELEASE_LIMIT_MS} ms; the next instance starts all the same`,
      );
    }
    start();
  };
  if (delayMs === 0) return step(null);
  const timer = setTimeout(() => step(null), delayMs);
  signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
}
