// An instance for cluster_supervisor.ts: starts (waiting for quorum under QUORUM), sends a
// health check every 100 ms, and on its warning says so and goes on sending them, as a
// program that ignores the warning would.
import * as sam from "../../mod.ts";

sam.initialize(1000, sam.RecoveryPolicy.RESTART);
const iid = await sam.register();
sam.addSignalListener("SIGTERM", () => console.log(`warned ${iid}`));
await sam.start();
console.log(`started ${iid}`);
setInterval(() => sam.hcSend(), 100);
