// An application for supervise() whose behaviour at its warning the stored data chooses:
// 0: listens for SIGTERM and ignores it, and sends no health check after start();
// 1: no listener, health checks every 20 ms;
// 2: adds a SIGTERM listener and removes it again, health checks every 20 ms;
// 3: listens for SIGUSR1 (supervise()'s warnSignal), which stores [99] and exits with 0.
import process from "node:process";
import * as sam from "../../mod.ts";

sam.initialize(0, sam.RecoveryPolicy.QUIT);
await sam.register();
const [mode] = sam.dataRestore();
const ignore = () => sam.dataStore(new Uint8Array([98])); // would show in the stored data
if (mode === 0) sam.addSignalListener("SIGTERM", () => {});
if (mode === 2) {
  sam.addSignalListener("SIGTERM", ignore);
  sam.removeSignalListener("SIGTERM", ignore);
}
if (mode === 3) {
  sam.addSignalListener("SIGUSR1", () => {
    sam.dataStore(new Uint8Array([99]));
    process.exit(0);
  });
}
await sam.start();
// Kept alive either way; modes 1 to 3 answer their health checks.
setInterval(() => mode !== 0 && sam.hcSend(), 20);
