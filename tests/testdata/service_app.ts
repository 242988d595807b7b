// A libsam-style HTTP service on a fixed loopback port, as the README shows one: SAM_SERVER
// picks the server ("deno" for Deno.serve, "bun" for Bun.serve, "node" for node:http),
// SAM_REUSE=1 listens with reusePort. /hello answers with the instance id, the version of the
// code (from the module at SAM_VERSION_MODULE, re-read by every instance) and the stored
// count; /crash makes the instance throw right after it answered. Every instance stores a
// count and a pattern that a torn store would show. On its warning it stops listening, stores
// its last count and ends, as stop() ends it.
import process from "node:process";
import { createServer } from "node:http";
import { Server } from "node:net";
import { pathToFileURL } from "node:url";
import * as sam from "../../mod.ts";

sam.initialize(Number(process.env.SAM_INTERVAL ?? 250), sam.RecoveryPolicy.RESTART, {
  // The supervisor's reload events, in line with the instances' output.
  onEvent(event) {
    if (event.type !== "reload") return;
    const d = (event as CustomEvent).detail;
    console.log(`reload ${d.outcome} ${d.id}${d.reason ? ` ${d.reason} ${d.code}` : ""}`);
  },
});
const iid = await sam.register();
const versionModule = process.env.SAM_VERSION_MODULE;
const version = versionModule === undefined
  ? "none"
  : (await import(pathToFileURL(versionModule).href)).version;
const port = Number(process.env.SAM_PORT);
const reusePort = process.env.SAM_REUSE === "1";
const kind = process.env.SAM_SERVER ?? "node";

/** A store: 8 bytes of count, then 4 KiB each filled with the count's low byte. */
function record(count: number): Uint8Array {
  const bytes = new Uint8Array(8 + 4096);
  new DataView(bytes.buffer).setFloat64(0, count);
  bytes.fill(count & 0xff, 8);
  return bytes;
}
/** The count a store holds, or -1 when it is torn (or empty: 0). */
function countOf(bytes: Uint8Array): number {
  if (bytes.length === 0) return 0;
  if (bytes.length !== 8 + 4096) return -1;
  const count = new DataView(bytes.buffer, bytes.byteOffset).getFloat64(0);
  return bytes.subarray(8).every((b) => b === (count & 0xff)) ? count : -1;
}

const restored = countOf(sam.dataRestore());
if (restored < 0) {
  console.log(`instance ${iid} restored a torn store`);
  process.exit(3);
}
let count = restored;
const answer = () => `instance ${iid} version ${version} count ${count}`;
let crash = () => {};

let close: () => Promise<void>;
const g = globalThis as unknown as {
  Deno?: {
    serve(o: unknown, h: (r: Request) => Response): { shutdown(): Promise<void> };
  };
  Bun?: {
    serve(o: unknown): { stop(closeActive?: boolean): Promise<void> | void };
  };
};
function respond(url: string): Response {
  if (url.endsWith("/crash")) {
    crash = () =>
      setTimeout(() => {
        throw new Error("crash");
      }, 5);
  }
  const response = new Response(answer(), { headers: { connection: "close" } });
  queueMicrotask(crash);
  return response;
}
if (kind === "deno") {
  const server = g.Deno!.serve(
    { port, hostname: "127.0.0.1", reusePort, onListen() {} },
    (req) => respond(req.url),
  );
  close = () => server.shutdown();
} else if (kind === "bun") {
  const server = g.Bun!.serve({
    port,
    hostname: "127.0.0.1",
    reusePort,
    fetch: (req: Request) => respond(req.url),
  });
  close = async () => void await server.stop();
} else {
  const server = createServer((req, res) => {
    if (req.url === "/crash") {
      crash = () =>
        setTimeout(() => {
          throw new Error("crash");
        }, 5);
    }
    res.setHeader("connection", "close");
    res.end(answer(), crash);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host: "127.0.0.1", reusePort }, resolve);
  });
  // net.Server's close(): the listener stops, while a connection it accepted a moment ago,
  // whose request is still on its way, is served (http.Server's close() would end it as idle).
  close = () => new Promise((resolve) => Server.prototype.close.call(server, () => resolve()));
}

sam.addSignalListener("SIGTERM", async () => {
  await close();
  // A moment for what the listener accepted just before it closed: on Deno neither
  // Deno.serve's shutdown() nor node:http waits for a request still on its way.
  await new Promise((resolve) => setTimeout(resolve, 100));
  sam.dataStore(record(++count));
  console.log(`instance ${iid} left at ${count}`);
  process.exit(0);
});
await sam.start();
// After start() the data is this instance's, with the last store of the one it replaced.
count = countOf(sam.dataRestore());
console.log(`listening ${iid} version ${version} count ${count}`);
if (count < 0) process.exit(3);
setInterval(() => {
  sam.hcSend();
  sam.dataStore(record(++count));
}, 20);
