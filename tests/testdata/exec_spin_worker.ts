// A Worker for exec_stuck.ts: it listens on the loopback port it is given, says which thread
// it is, then spins for ever (Deno 2.9's terminate() does not stop it, nor close the socket).
import { parentPort, workerData } from "node:worker_threads";
import { createServer } from "node:net";
import { runtime } from "../../platform/runtime.ts";

const server = createServer();
server.once("error", (error) => parentPort!.postMessage(`listen: ${(error as Error).message}`));
server.listen(workerData.port, "127.0.0.1", () => {
  parentPort!.postMessage(runtime.threadId());
  for (;;);
});
