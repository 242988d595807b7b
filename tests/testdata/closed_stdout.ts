// An instance that prints far more than a pipe holds to a stdout whose reader goes away
// after the first line (`| head -1`), and then says on stderr that it is still there.
import process from "node:process";
import * as sam from "../../mod.ts";

sam.initialize(0, sam.RecoveryPolicy.QUIT);
const iid = await sam.register();
const filler = "x".repeat(100);
for (let i = 0; i < 50_000; i++) console.log(`line ${i} of instance ${iid} ${filler}`);
process.stderr.write(`instance ${iid} is still there\n`);
