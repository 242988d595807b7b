// A client that keeps sending one request per connection to a loopback service, as fast as it
// answers, and counts what failed: the measure of a service's availability through a crash or
// a reload.
import { request } from "node:http";

/** What a request loop saw. */
export interface LoopResult {
  ok: number;
  failed: number;
  /** The longest time without an answer, from one answer to the next (ms). */
  longestGapMs: number;
  /** Each answer's body, in order, with a repeat count (runs of equal bodies folded). */
  bodies: { body: string; n: number }[];
  /** The errors, folded likewise. */
  errors: { error: string; n: number }[];
  /** When each error came (ms from the loop's start), with the body answered last before it. */
  errorsAt: { at: number; after: string }[];
}

/** One GET on a new connection; resolves with the body or rejects. */
export function get(port: number, path: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, agent: false, headers: { connection: "close" } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => body += d);
        res.on(
          "end",
          () => res.statusCode === 200 ? resolve(body) : reject(new Error(`${res.statusCode}`)),
        );
        res.on("error", reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

function fold<T extends { n: number }>(list: T[], key: keyof T, value: string): void {
  const last = list[list.length - 1];
  if (last !== undefined && last[key] === value) last.n++;
  else list.push({ [key]: value, n: 1 } as unknown as T);
}

/**
 * Sends requests one after another until `stop` resolves (then finishes the one in flight).
 * Bounded by `maxMs` whatever happens.
 */
export async function requestLoop(
  port: number,
  stop: Promise<unknown>,
  maxMs = 30_000,
): Promise<LoopResult> {
  let stopped = false;
  void stop.then(() => stopped = true, () => stopped = true);
  const result: LoopResult = {
    ok: 0,
    failed: 0,
    longestGapMs: 0,
    bodies: [],
    errors: [],
    errorsAt: [],
  };
  const start = performance.now();
  let lastOk = start;
  while (!stopped && performance.now() - start < maxMs) {
    try {
      const body = await get(port, "/hello");
      const now = performance.now();
      result.longestGapMs = Math.max(result.longestGapMs, now - lastOk);
      lastOk = now;
      result.ok++;
      fold(result.bodies, "body", body.replace(/ count \d+$/, ""));
    } catch (error) {
      result.failed++;
      const at = Math.round(performance.now() - start);
      result.errorsAt.push({ at, after: result.bodies.at(-1)?.body ?? "" });
      fold(result.errors, "error", (error as { code?: string }).code ?? String(error));
    }
  }
  return result;
}
