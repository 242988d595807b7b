// A Worker for exec_stuck.ts: it says which thread it is, then sleeps in Atomics.wait() for
// ever (Deno 2.9's terminate() does not wake it).
import { parentPort } from "node:worker_threads";
import { runtime } from "../../platform/runtime.ts";

parentPort!.postMessage(runtime.threadId());
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
