// A libsam-style HTTP service on a fixed loopback port (SAM_PORT), as a user writes one with
// node:http: health checks on a timer, /hello answers with the instance id and pid, /busy
// hangs its instance in a busy loop and /wait in an endless Atomics.wait.
import process from "node:process";
import { createServer } from "node:http";
import * as sam from "../../mod.ts";

sam.initialize(300, sam.RecoveryPolicy.RESTART);
const iid = await sam.register();
const restored = sam.dataGetsize();
const port = Number(process.env.SAM_PORT);
const server = createServer((req, res) => {
  if (req.url === "/busy") { for (;;); }
  if (req.url === "/wait") Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  res.setHeader("connection", "close");
  res.end(`instance ${iid} pid ${process.pid} restored ${restored}`);
});
server.on("error", (error) => {
  console.error(`instance ${iid}: ${error}`);
  process.exit(1);
});
server.listen(port, "127.0.0.1", async () => {
  await sam.start();
  sam.dataStore(new Uint8Array(iid));
  setInterval(() => sam.hcSend(), 50);
  console.log(`listening ${iid}`);
});
