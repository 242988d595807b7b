// The notify channel of Deno without FFI: the runtime's own datagram socket (Deno's unstable
// Deno.listenDatagram, --unstable-net), bound to a path of its own in /tmp (--allow-write,
// --allow-net). No descriptors, and no abstract socket addresses (Deno refuses them).
import process from "node:process";
import { runtime, type UnixDatagramSocket } from "../platform/runtime.ts";
import type { ChannelBackend, NotifyChannel } from "./channel.ts";

/** Sends datagrams with the runtime's own datagram socket. */
export const denoDatagramChannel: ChannelBackend = {
  kind: "deno-datagram",
  unavailable(socket) {
    const why = runtime.unixDatagramUnavailable();
    if (why !== null) return why;
    if (!socket.startsWith("/")) return "Deno sends to socket paths only, not abstract names";
    return null;
  },
  open(socket, onError): NotifyChannel {
    let conn: UnixDatagramSocket | null = null;
    const own = `/tmp/sam-notify-${process.pid}-${Math.random().toString(36).slice(2)}.sock`;
    try {
      conn = runtime.openUnixDatagram(own);
    } catch (error) {
      onError(`cannot open a datagram socket: ${error}`);
    }
    // One datagram after the other, in order.
    let queue: Promise<unknown> = Promise.resolve();
    return {
      kind: "deno-datagram",
      passesFds: false,
      send(message) {
        const bytes = new TextEncoder().encode(message);
        if (conn === null) return;
        const c = conn;
        queue = queue.then(() => c.send(bytes, socket))
          .catch((error) => onError(`sending to ${socket} failed: ${error}`));
      },
      flushed: () => queue.then(() => {}),
      // After flushed(): nothing is left to send.
      close: () => conn?.close(),
    };
  },
};
