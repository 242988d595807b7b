// A bare Worker for the baselines of sam_bench.ts: it says "ready" as soon as it runs, then
// acknowledges every message with its byte length.
import { parentPort } from "node:worker_threads";

const port = parentPort!;
port.on("message", (message: Uint8Array) => port.postMessage(message.byteLength));
port.postMessage("ready");
