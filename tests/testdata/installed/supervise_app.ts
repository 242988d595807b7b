// The instance supervise_main.ts supervises: instance 1 stores and crashes, instance 2 says
// what it restored and stops with code 5.
import * as sam from "@x/sam";
import process from "node:process";

sam.initialize(1000, sam.RecoveryPolicy.RESTART);
const iid = await sam.register();
console.log(`instance ${iid} restores "${new TextDecoder().decode(sam.dataRestore())}"`);
await sam.start();
if (iid === 1) {
  sam.dataStore(new TextEncoder().encode("stored by instance 1"));
  throw new Error("instance 1 crashes");
}
sam.stop();
process.exit(5);
