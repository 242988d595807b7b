// How sam speaks to systemd's notify socket ($NOTIFY_SOCKET, sd_notify(3)): a channel is one
// way of sending a datagram there, each in a file of its own with a checker that says whether
// it works in this runtime. Which one is used: the first whose checker passes.

/** One way of sending notify messages. */
export interface NotifyChannel {
  /** What it is, for messages: "libc", "deno-datagram", "systemd-notify". */
  readonly kind: string;
  /**
   * Sends `message` (newline-separated assignments such as `READY=1`), with the descriptors
   * `fds` when the channel can pass descriptors. Sent in order; failures are reported to
   * `onError` of {@linkcode openChannel}, never thrown.
   */
  send(message: string, fds?: readonly number[]): void;
  /** Whether it can pass descriptors (the fd store needs that). */
  readonly passesFds: boolean;
  /** Resolves once every message sent so far has gone out. */
  flushed(): Promise<void>;
  /** Lets go of its socket. */
  close(): void;
}

/** A channel's checker and maker. */
export interface ChannelBackend {
  readonly kind: string;
  /** Why it cannot be used here for `socket`, or null when it can. */
  unavailable(socket: string): string | null;
  /** Opens it; called only when {@linkcode ChannelBackend.unavailable} said null. */
  open(socket: string, onError: (error: string) => void): NotifyChannel;
}
