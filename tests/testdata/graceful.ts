// The libsam style under SIGTERM to the process: the supervisor stops gracefully, so the
// instance hears its warning and saves its work before the process ends.
import process from "node:process";
import * as sam from "../../mod.ts";

sam.initialize(2000, sam.RecoveryPolicy.RESTART);
const iid = await sam.register();
sam.addSignalListener("SIGTERM", () => {
  console.log(`iid ${iid} warned`);
  process.exit(0);
});
await sam.start();
setInterval(() => sam.hcSend(), 50);
console.log(`iid ${iid} ready`);
