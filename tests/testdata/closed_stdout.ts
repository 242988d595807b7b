// An instance that writes far more than a pipe holds, to a stdout its reader closes early,
// and then says on stderr that it is still there.
import process from "node:process";
import * as sam from "../../mod.ts";

sam.initialize(0, sam.RecoveryPolicy.QUIT);
const iid = await sam.register();
for (let i = 0; i < 20_000; i++) console.log(`line ${i} of instance ${iid}`);
process.stderr.write(`instance ${iid} is still there\n`);
