// An instance for the restart storm (rel_storm.ts): it restores the value the instance before
// stored, checks it byte for byte, stores the next one (256 KiB, stamped with the count), starts
// health checking and throws at once. A value that is not the one expected ends it with code 2
// instead of 1.
import process from "node:process";
import * as sam from "../../mod.ts";
import { pattern, stampOf } from "./rel_pattern.ts";

const STORM_VALUE_BYTES = 256 * 1024;

sam.initialize(0, sam.RecoveryPolicy.RESTART);
await sam.register();
const before = sam.dataRestore();
const count = stampOf(before);
const expected = pattern(count, STORM_VALUE_BYTES);
if (count < 0 || before.length !== expected.length || !before.every((b, i) => b === expected[i])) {
  console.error(`restored ${before.length} bytes stamped ${count}: not a value of the storm`);
  process.exit(2);
}
sam.dataStore(pattern(count + 1, STORM_VALUE_BYTES));
await sam.start();
throw new Error(`storm: instance ${count + 1} crashes`);
