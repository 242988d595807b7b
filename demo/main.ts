// sam's demo: an app that counts, stores its count, crashes and then hangs on purpose, and is
// recovered each time. Run with `deno task demo` or `bun demo/main.ts`.
import * as sam from "../mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const now = () => performance.timeOrigin + performance.now();

interface Saved {
  count: number;
  failedAt?: number;
  how?: string;
}

sam.initialize(100, sam.RecoveryPolicy.RESTART);
const iid = await sam.register(); // the main thread supervises from here on
const bytes = sam.dataRestore();
const saved: Saved = bytes.length ? JSON.parse(decoder.decode(bytes)) : { count: 0 };
const recovery = saved.failedAt
  ? ` after a ${saved.how}, recovered in ${(now() - saved.failedAt).toFixed(1)} ms`
  : "";
console.log(`instance ${iid}: restored count ${saved.count}${recovery}`);

const store = (s: Saved) => sam.dataStore(encoder.encode(JSON.stringify(s)));
await sam.start();
let count = saved.count;
const timer = setInterval(() => {
  count++;
  sam.hcSend();
  store({ count });
  if (iid === 1 && count === 5) {
    store({ count, failedAt: now(), how: "crash" });
    throw new Error("a crash on purpose");
  }
  if (iid === 2 && count === 10) {
    // Stops answering: the supervisor's deadline is 100 ms after this last health check.
    store({
      count,
      failedAt: now(),
      how: "hang (timed from the last health check; deadline 100 ms)",
    });
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }
  if (count === 15) {
    clearInterval(timer);
    sam.stop();
    console.log(`instance ${iid}: counted to ${count}, done`);
  }
}, 20);
