// The README's quick start, as a user of the installed package writes it, with a crash: instance
// 1 stores and throws, instance 2 restores what it stored and stops with code 7.
import * as sam from "@x/sam";
import process from "node:process";

sam.initialize(1000, sam.RecoveryPolicy.RESTART);
const iid = await sam.register(); // the main thread never gets past this line
const saved = new TextDecoder().decode(sam.dataRestore());
console.log(`instance ${iid} restores "${saved}"`);
await sam.start();
if (iid === 1) {
  sam.dataStore(new TextEncoder().encode("stored by instance 1"));
  throw new Error("instance 1 crashes");
}
sam.stop();
process.exit(7);
