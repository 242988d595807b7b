// sam under systemd (Type=notify): the supervisor tells systemd when it is ready, reloading and
// stopping, its status at each change, and keeps its watchdog fed from its own event loop, so
// that systemd restarts a process whose supervisor hangs (an instance's hang stays sam's to
// recover). What to say comes from notify_policy.ts; how it is sent, from the first channel
// that works here.
import process from "node:process";
import { monotonicNs } from "../platform/clock.ts";
import { runtime } from "../platform/runtime.ts";
import { unrefTimer } from "../platform/timers.ts";
import type { SupervisorEnd, SupervisorEventDetails } from "../events.ts";
import type { ChannelBackend, NotifyChannel } from "./channel.ts";
import { commandChannel } from "./channel_command.ts";
import { denoDatagramChannel } from "./channel_deno_datagram.ts";
import { libcChannel } from "./channel_libc.ts";
import {
  INITIAL_NOTIFY_STATE,
  notifyEnd,
  notifyForEvent,
  type NotifyState,
  type NotifyStep,
  notifyStopping,
  watchdogInterval,
} from "./notify_policy.ts";

/** What systemd tells a service about its notify socket and watchdog. */
export const SYSTEMD_VARIABLES = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] as const;

/** The channels, best first: libc passes descriptors, the command forks a process each time. */
export const CHANNELS: readonly ChannelBackend[] = [
  libcChannel,
  denoDatagramChannel,
  commandChannel,
];

/** The first channel that works here for `socket`, or why none does. */
export function pickChannel(socket: string): ChannelBackend | string {
  const why: string[] = [];
  for (const backend of CHANNELS) {
    const reason = backend.unavailable(socket);
    if (reason === null) return backend;
    why.push(`${backend.kind}: ${reason}`);
  }
  return why.join("; ");
}

/** Tells systemd about supervision, from the main thread. */
export class SystemdNotifier {
  readonly channel: NotifyChannel;
  #state: NotifyState = INITIAL_NOTIFY_STATE;
  #watchdog: ReturnType<typeof setInterval> | undefined;

  constructor(channel: NotifyChannel, watchdogMs: number | null) {
    this.channel = channel;
    if (watchdogMs !== null) {
      // From the supervisor's event loop: it stops when that loop stops.
      this.#watchdog = setInterval(() => channel.send("WATCHDOG=1"), watchdogMs);
      unrefTimer(this.#watchdog);
    }
  }

  #apply(step: NotifyStep): void {
    this.#state = step.state;
    if (step.message !== null) this.channel.send(step.message);
  }

  /** A supervisor event. */
  event<K extends keyof SupervisorEventDetails>(type: K, detail: SupervisorEventDetails[K]): void {
    const usec = monotonicNs(performance.now()) / 1000;
    this.#apply(notifyForEvent(this.#state, type, detail, usec));
  }

  /** Supervision was asked to end. */
  stopping(why: string): void {
    this.#apply(notifyStopping(this.#state, why));
  }

  /** Supervision ended: the last word, and the watchdog stops. */
  ended(end: SupervisorEnd): void {
    clearInterval(this.#watchdog);
    this.#apply(notifyEnd(this.#state, end));
  }
}

/**
 * A notifier when $NOTIFY_SOCKET is set and a channel works; null otherwise (a line on stderr
 * says why, when the socket is set but nothing can reach it).
 */
export function systemdNotifier(
  env: Readonly<Record<string, string | undefined>> = runtime.readEnv(SYSTEMD_VARIABLES),
): SystemdNotifier | null {
  const socket = env.NOTIFY_SOCKET;
  if (socket === undefined || socket === "") return null;
  const picked = pickChannel(socket);
  if (typeof picked === "string") {
    console.error(`sam: cannot notify systemd at ${socket} (${picked})`);
    return null;
  }
  const channel = picked.open(socket, (error) => console.error(`sam: systemd notify: ${error}`));
  return new SystemdNotifier(channel, watchdogInterval(env, process.pid));
}
