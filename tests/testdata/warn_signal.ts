// libsam's test6: a warning signal set with warnSignalSet stays for later instances;
// "SIGKILL" means termination without a warning.
import * as sam from "../../mod.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);
sam.initialize(200, sam.RecoveryPolicy.RESTART);
const iid = await sam.register();
console.log(`iid ${iid} restored "${text(sam.dataRestore())}"`);
const keepAlive = setInterval(() => {}, 1000);
if (iid === 1) {
  sam.warnSignalSet("SIGUSR1");
  sam.addSignalListener("SIGUSR1", () => {
    console.log("iid 1 warned with SIGUSR1");
    sam.dataStore(new TextEncoder().encode("warned 1"));
  });
  sam.addSignalListener("SIGTERM", () => console.log("FAIL SIGTERM delivered"));
  await sam.start();
} else if (iid === 2) {
  // No warnSignalSet here: SIGUSR1 is still the warning signal.
  sam.addSignalListener("SIGUSR1", () => {
    console.log("iid 2 warned with SIGUSR1");
    sam.warnSignalSet("SIGKILL");
    sam.dataStore(new TextEncoder().encode("warned 2"));
  });
  await sam.start();
} else if (iid === 3) {
  sam.addSignalListener("SIGUSR1", () => console.log("FAIL warned despite SIGKILL"));
  await sam.start();
} else {
  clearInterval(keepAlive);
}
