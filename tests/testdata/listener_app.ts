// An application for supervise() that saves its state and exits when warned.
import process from "node:process";
import * as sam from "../../mod.ts";

sam.initialize(1000, sam.RecoveryPolicy.RESTART);
const iid = await sam.register();
sam.addSignalListener("SIGTERM", () => {
  sam.dataStore(new TextEncoder().encode(`saved by ${iid}`));
  process.exit(0);
});
await sam.start();
setInterval(() => sam.hcSend(), 50);
