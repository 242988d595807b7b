// A libsam-style program for `bun build --compile`: instance 1 stores a value and crashes
// after start(); instance 2 restores it, prints it with its pid, and ends with code 7.
import process from "node:process";
import * as sam from "../../mod.ts";

sam.initialize(1000, sam.RecoveryPolicy.RESTART);
const iid = await sam.register();
const saved = new TextDecoder().decode(sam.dataRestore());
console.log(`instance ${iid} pid ${process.pid} restores "${saved}"`);
await sam.start();
if (iid === 1) {
  sam.dataStore(new TextEncoder().encode("stored by instance 1"));
  throw new Error("instance 1 crashes");
}
sam.stop();
process.exitCode = 7;
