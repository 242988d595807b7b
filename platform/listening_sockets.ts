// The sockets of this process and the listening TCP sockets, from /proc: what a terminated
// instance may still hold while its runtime tears its Worker down. Linux only; null where /proc
// cannot be read (Deno refuses /proc to its file API without --allow-all).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** TCP state LISTEN in /proc/net/tcp. */
const LISTEN = "0A";
const TABLES = ["/proc/self/net/tcp", "/proc/self/net/tcp6"];

function readTable(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    return (error as { code?: string }).code === "ENOENT" ? "" : null; // "": no IPv6
  }
}

/**
 * The inodes of the listening TCP sockets (IPv4 and IPv6) of this network namespace, or null
 * where the tables cannot be read.
 */
export function listeningSockets(): Set<number> | null {
  const out = new Set<number>();
  for (const path of TABLES) {
    const text = readTable(path);
    if (text === null) return null;
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      // sl local rem st tx:rx tr:when retr uid timeout inode
      if (fields.length > 9 && fields[3] === LISTEN) out.add(Number(fields[9]));
    }
  }
  return out;
}

const SOCKET_LINK = /^socket:\[(\d+)\]$/;

/** The inodes of the sockets this process holds descriptors of, or null where /proc/self/fd cannot be read. */
export function socketsOfThisProcess(): Set<number> | null {
  try {
    const out = new Set<number>();
    for (const fd of readdirSync("/proc/self/fd")) {
      try {
        const m = SOCKET_LINK.exec(readlinkSync(`/proc/self/fd/${fd}`));
        if (m) out.add(Number(m[1]));
      } catch {
        // Closed meanwhile (the listing's own descriptor among them).
      }
    }
    return out;
  } catch {
    return null;
  }
}
