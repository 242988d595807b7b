// The notify channel of Deno without FFI: an unbound "unixpacket" datagram socket
// (Deno.listenDatagram, an unstable API: --unstable-net), bound to a path of its own in /tmp
// (--allow-write, --allow-net). No descriptors, and no abstract socket addresses (Deno refuses them).
import type { ChannelBackend, NotifyChannel } from "./channel.ts";

interface DatagramConn {
  send(data: Uint8Array, addr: { transport: "unixpacket"; path: string }): Promise<number>;
  close(): void;
}
interface DenoNet {
  listenDatagram?(options: { transport: "unixpacket"; path: string }): DatagramConn;
  permissions: { querySync(d: { name: string }): { state: string } };
  removeSync(path: string): void;
  pid: number;
}

const deno = (globalThis as { Deno?: DenoNet }).Deno;

/** Sends datagrams with Deno's unstable datagram socket. */
export const denoDatagramChannel: ChannelBackend = {
  kind: "deno-datagram",
  unavailable(socket) {
    if (deno === undefined) return "Deno only";
    if (typeof deno.listenDatagram !== "function") return "needs --unstable-net";
    if (!socket.startsWith("/")) return "Deno sends to socket paths only, not abstract names";
    // Deno binds the socket it sends from to a path: one in /tmp, removed at close().
    for (const name of ["write", "net"]) {
      if (deno.permissions.querySync({ name }).state !== "granted") return `needs --allow-${name}`;
    }
    return null;
  },
  open(socket, onError): NotifyChannel {
    let conn: DatagramConn | null = null;
    const own = `/tmp/sam-notify-${deno!.pid}-${Math.random().toString(36).slice(2)}.sock`;
    try {
      conn = deno!.listenDatagram!({ transport: "unixpacket", path: own });
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
        queue = queue.then(() => c.send(bytes, { transport: "unixpacket", path: socket }))
          .catch((error) => onError(`sending to ${socket} failed: ${error}`));
      },
      flushed: () => queue.then(() => {}),
      close() {
        // After flushed(): nothing is left to send.
        conn?.close();
        try {
          deno!.removeSync(own);
        } catch {
          // Gone already.
        }
      },
    };
  },
};
