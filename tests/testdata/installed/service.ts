// The README's service on its runtime's own server (Deno.serve, Bun.serve, node:http on Node),
// on the loopback port in $PORT: it answers with its instance id and how many requests the
// instances before it served (kept in the stored data); /crash ends the instance with an
// uncaught error.
import * as sam from "@x/sam";
import process from "node:process";
import { createServer } from "node:http";

sam.initialize(1000, sam.RecoveryPolicy.RESTART, { maxRestarts: 10 });
const iid = await sam.register();
const port = Number(process.env.PORT);
const before = sam.dataGetsize() ? new DataView(sam.dataRestore().buffer).getUint32(0) : 0;
let served = before;

function answer(path: string): string {
  if (path === "/crash") {
    setTimeout(() => {
      throw new Error(`instance ${iid} crashes`);
    });
  }
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, ++served);
  sam.dataStore(view);
  return `instance ${iid} after ${before}`;
}

const g = globalThis as any;
if (g.Deno) {
  g.Deno.serve(
    { port, hostname: "127.0.0.1", onListen() {} },
    (req: Request) => new Response(answer(new URL(req.url).pathname)),
  );
} else if (g.Bun) {
  g.Bun.serve({
    port,
    hostname: "127.0.0.1",
    // Bun releases a crashed instance's listening socket late: the next instance shares the port.
    reusePort: true,
    fetch: (req: Request) => new Response(answer(new URL(req.url).pathname)),
  });
} else {
  await new Promise<void>((resolve) =>
    createServer((req, res) => res.end(answer(req.url!))).listen(port, "127.0.0.1", resolve)
  );
}
await sam.start();
setInterval(() => sam.hcSend(), 250);
console.log(`instance ${iid} listening`);
