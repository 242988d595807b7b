// Waiting for what an ended instance still holds: a runtime closes a Worker's sockets while it
// tears the Worker down, some time after its JavaScript ended (on Bun even after the Worker's
// exit event), and the next instance of a service on a fixed port must not meet its listening
// socket. Pure functions of what /proc showed; the engine reads it and keeps the clock.
//
// Reading the descriptors is cheap and goes on every recovery's path; reading the TCP tables
// (to tell a listening socket from others) is not (a busy service leaves thousands of closed
// connections there), so it is read at most once per recovery, and only when sockets the
// instance opened are still open: then only the listening ones are waited for, by their
// descriptors (a runtime's own sockets, such as those of a new Worker, hold nothing up).

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
