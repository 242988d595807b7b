// sam as a systemd service, as the main thread's supervisor runs it: what systemd is told
// (notifier.ts) and the stored data's copy in systemd's fd store (fd_store.ts), together, so
// that register() on the main thread has one thing to start and to tell its events.
import type { SupervisorEnd, SupervisorEventDetails } from "../events.ts";
import { runtime } from "../platform/runtime.ts";
import { unrefTimer } from "../platform/timers.ts";
import { type DataMemfd, FD_NAME, openDataMemfd } from "./fd_store.ts";
import { SYSTEMD_VARIABLES, type SystemdNotifier, systemdNotifier } from "./notifier.ts";

/** How often the stored data's copy in systemd's fd store follows it, at most. */
const FD_STORE_EVERY_MS = 100;

/** The stored data as the copy in the fd store follows it. */
export interface StoredData {
  /** The largest value, in bytes. */
  readonly maxDataSize: number;
  /** How many stores were ever published: the copy is made again when this changed. */
  version(): number;
  /** The value now. */
  snapshot(): Uint8Array;
  /** Stores `value` (what the fd store kept of the previous process's), for instance 1. */
  restore(value: Uint8Array): void;
}

/** sam under systemd, from the main thread. */
export class SystemdService {
  readonly #notifier: SystemdNotifier | null;
  /** Copies the data into the fd store when it changed; null without one. */
  readonly #copy: (() => void) | null;

  constructor(notifier: SystemdNotifier | null, data: StoredData, memfd: DataMemfd | null) {
    this.#notifier = notifier;
    if (memfd?.value) data.restore(memfd.value);
    this.#copy = notifier === null || memfd === null || !notifier.channel.passesFds
      ? null
      : keepInFdStore(notifier, data, memfd);
  }

  /** A supervisor event: its notify message, if any; an instance's end is copied at once. */
  event<K extends keyof SupervisorEventDetails>(type: K, detail: SupervisorEventDetails[K]): void {
    if (type === "exit") this.#copy?.();
    if (type === "status" || type === "reload") this.#notifier?.event(type, detail);
  }

  /** Supervision was asked to end (by `why`, a signal's name). */
  stopping(why: string): void {
    this.#notifier?.stopping(why);
  }

  /** Supervision ended: the last copy, and the last word once it went out. */
  async ended(end: SupervisorEnd): Promise<void> {
    this.#copy?.();
    if (this.#notifier === null) return;
    this.#notifier.ended(end);
    await this.#notifier.channel.flushed();
    this.#notifier.channel.close();
  }
}

/**
 * Keeps a copy of the stored data in `memfd`, which systemd holds (FDSTORE=1): every
 * FD_STORE_EVERY_MS when it changed, and whenever the returned copy step is called.
 */
function keepInFdStore(notifier: SystemdNotifier, data: StoredData, memfd: DataMemfd) {
  if (!memfd.restored) notifier.channel.send(`FDSTORE=1\nFDNAME=${FD_NAME}`, [memfd.fd]);
  let copied = -1;
  const copy = () => {
    const version = data.version();
    if (version === copied) return;
    try {
      if (memfd.write(data.snapshot())) copied = version;
    } catch {
      // Locked by an instance for long: the next turn copies it.
    }
  };
  copy();
  unrefTimer(setInterval(copy, FD_STORE_EVERY_MS));
  return copy;
}

/**
 * sam under systemd when $NOTIFY_SOCKET is set (the stored data restored from the fd store,
 * if it kept one); null otherwise.
 */
export function systemdService(data: StoredData): SystemdService | null {
  const env = runtime.readEnv([...SYSTEMD_VARIABLES, "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"]);
  if (!env.NOTIFY_SOCKET) return null;
  const memfd = openDataMemfd(env, data.maxDataSize);
  return new SystemdService(systemdNotifier(env), data, memfd);
}
