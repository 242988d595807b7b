// The notify channel through libc (Deno and Bun FFI): socket(AF_UNIX, SOCK_DGRAM) and sendmsg,
// with SCM_RIGHTS for descriptors, as sd_notify(3) does. The only channel that passes
// descriptors, so the only one that keeps the stored data in systemd's fd store.
import { errno, libcOrNull } from "../platform/libc.ts";
import type { ChannelBackend, NotifyChannel } from "./channel.ts";

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_NOSIGNAL = 0x4000;
const SUN_PATH_MAX = 108;
/** One block holds the message header, iovec, address, control data and message. */
const BLOCK_BYTES = 1 << 16;

/** sockaddr_un for `socket`: a path, or an abstract name written `@name`. */
function address(socket: string): Uint8Array {
  const name = new TextEncoder().encode(socket);
  const bytes = new Uint8Array(2 + name.length + (socket.startsWith("@") ? 0 : 1));
  new DataView(bytes.buffer).setUint16(0, AF_UNIX, true);
  bytes.set(name, 2);
  if (socket.startsWith("@")) bytes[2] = 0; // abstract: no terminating NUL, exact length
  return bytes;
}

/** Sends datagrams to the notify socket with libc. */
export const libcChannel: ChannelBackend = {
  kind: "libc",
  unavailable(socket) {
    if (socket.length === 0 || socket.length >= SUN_PATH_MAX) return "not a socket address";
    if (!socket.startsWith("/") && !socket.startsWith("@")) return "not a socket address";
    return libcOrNull() === null ? "needs FFI (Deno: --allow-ffi) and Linux libc" : null;
  },
  open(socket, onError): NotifyChannel {
    const c = libcOrNull()!;
    const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) as number;
    if (fd < 0) onError(`socket() failed: errno ${errno(c)}`);
    const to = address(socket);
    // A large ArrayBuffer stays where it is: its address can go inside the message header.
    const block = new Uint8Array(new ArrayBuffer(BLOCK_BYTES));
    const base = c.memmove(block, block, 0n) as bigint;
    const view = new DataView(block.buffer);
    return {
      kind: "libc",
      passesFds: true,
      send(message, fds = []) {
        if (fd < 0) return;
        const text = new TextEncoder().encode(message);
        // msghdr (56 bytes) at 0, iovec (16) at 64, address at 128, control at 256, text at 512.
        const controlBytes = fds.length === 0 ? 0 : 16 + Math.ceil((4 * fds.length) / 8) * 8;
        if (512 + text.length > BLOCK_BYTES || 256 + controlBytes > 512) {
          return onError(`notify message too long (${text.length} bytes)`);
        }
        block.fill(0, 0, 512);
        block.set(to, 128);
        block.set(text, 512);
        view.setBigUint64(0, base + 128n, true); // msg_name
        view.setUint32(8, to.length, true); // msg_namelen
        view.setBigUint64(16, base + 64n, true); // msg_iov
        view.setBigUint64(24, 1n, true); // msg_iovlen
        view.setBigUint64(64, base + 512n, true); // iov_base
        view.setBigUint64(72, BigInt(text.length), true); // iov_len
        if (controlBytes > 0) {
          view.setBigUint64(32, base + 256n, true); // msg_control
          view.setBigUint64(40, BigInt(controlBytes), true); // msg_controllen
          view.setBigUint64(256, BigInt(16 + 4 * fds.length), true); // cmsg_len
          view.setInt32(264, SOL_SOCKET, true);
          view.setInt32(268, SCM_RIGHTS, true);
          fds.forEach((d, i) => view.setInt32(272 + 4 * i, d, true));
        }
        const sent = Number(c.sendmsg(fd, block, MSG_NOSIGNAL));
        if (sent < 0) onError(`sendmsg() to ${socket} failed: errno ${errno(c)}`);
      },
      // Each message went out in its sendmsg().
      flushed: () => Promise.resolve(),
      close() {
        if (fd >= 0) c.close(fd);
      },
    };
  },
};
