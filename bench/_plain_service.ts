// The same service as tests/testdata/service_app.ts without sam, for the baseline of
// service_bench.ts: a shell loop starts it again after each crash. /crash ends the process
// with 1 right after it answered.
import process from "node:process";
import { createServer } from "node:http";

const port = Number(process.env.SAM_PORT);
const kind = process.env.SAM_SERVER ?? "node";
const answer = () => `pid ${process.pid}`;
const g = globalThis as unknown as {
  Deno?: { serve(o: unknown, h: (r: Request) => Response): unknown };
  Bun?: { serve(o: unknown): unknown };
};
function respond(url: string): Response {
  if (url.endsWith("/crash")) setTimeout(() => process.exit(1), 5);
  return new Response(answer(), { headers: { connection: "close" } });
}
if (kind === "deno") {
  g.Deno!.serve({ port, hostname: "127.0.0.1", onListen() {} }, (req) => respond(req.url));
} else if (kind === "bun") {
  g.Bun!.serve({ port, hostname: "127.0.0.1", fetch: (req: Request) => respond(req.url) });
} else {
  createServer((req, res) => {
    if (req.url === "/crash") setTimeout(() => process.exit(1), 5);
    res.setHeader("connection", "close");
    res.end(answer());
  }).listen(port, "127.0.0.1");
}
