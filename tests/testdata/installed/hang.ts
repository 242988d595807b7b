// A program whose instance 1 stores and then hangs in a busy loop: instance 2 restores what it
// stored and stops with code 7. On Deno the hung thread cannot be stopped, so sam replaces the
// process image in place (same pid) and instance 2 runs there.
import * as sam from "@x/sam";
import process from "node:process";

sam.initialize(200, sam.RecoveryPolicy.RESTART);
const iid = await sam.register();
const saved = new TextDecoder().decode(sam.dataRestore());
console.log(`instance ${iid} pid ${process.pid} restores "${saved}"`);
await sam.start();
if (iid === 1) {
  sam.dataStore(new TextEncoder().encode("stored by instance 1"));
  for (;;);
}
sam.stop();
process.exit(7);
