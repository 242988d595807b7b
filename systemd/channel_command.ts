// The notify channel of last resort, Node's (no FFI, and dgram is UDP only): systemd-notify run
// by the main process, one process per message. systemd 252 accepts it under NotifyAccess=main
// because it sends the pid of its parent. What it costs: a fork and exec of a small program
// per message (a few ms of CPU, the watchdog's WATCHDOG=1 included), messages that reach
// systemd a few ms late, and no descriptors (252's systemd-notify has no --fd): no fd store.
import { spawn, spawnSync } from "node:child_process";
import process from "node:process";
import type { ChannelBackend, NotifyChannel } from "./channel.ts";

const COMMAND = "systemd-notify";

let found: boolean | undefined;

function commandFound(): boolean {
  if (found === undefined) {
    try {
      found = spawnSync(COMMAND, ["--help"], { stdio: "ignore" }).status === 0;
    } catch {
      found = false;
    }
  }
  return found;
}

/** Runs systemd-notify for each message. */
export const commandChannel: ChannelBackend = {
  kind: "systemd-notify",
  unavailable() {
    return commandFound() ? null : `no ${COMMAND} command`;
  },
  open(socket, onError): NotifyChannel {
    let queue: Promise<unknown> = Promise.resolve();
    return {
      kind: "systemd-notify",
      passesFds: false,
      send(message) {
        const args = message.split("\n").filter((line) => line !== "");
        // In order: each waits for the one before it.
        queue = queue.then(() =>
          new Promise<void>((resolve) => {
            const child = spawn(COMMAND, args, {
              stdio: "ignore",
              env: { ...process.env, NOTIFY_SOCKET: socket },
            });
            child.on("error", (error) => {
              onError(`${COMMAND} failed: ${error.message}`);
              resolve();
            });
            child.on("exit", (code) => {
              if (code !== 0) onError(`${COMMAND} ${args.join(" ")} ended with code ${code}`);
              resolve();
            });
          })
        );
      },
      flushed: () => queue.then(() => {}),
      close() {},
    };
  },
};
