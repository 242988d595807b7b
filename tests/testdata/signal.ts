// libsam's test2: policy quit; the instance hears its warning, and is terminated anyway.
import * as sam from "../../mod.ts";

sam.initialize(300, sam.RecoveryPolicy.QUIT);
const iid = await sam.register();
console.log(`iid ${iid}`);
if (iid === 1) {
  sam.addSignalListener("SIGTERM", () => console.log("signal delivered"));
  await sam.start();
  sam.hcSend();
  setInterval(() => {}, 1000); // alive, but no more health checks
}
