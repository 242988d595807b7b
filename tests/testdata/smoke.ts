// libsam's test3: instances crash right after start(), with no time limit; each is restarted.
import * as sam from "../../mod.ts";

const LAST = Number(process.env.SAM_SMOKE_COUNT ?? 20) + 1;
sam.initialize(0, sam.RecoveryPolicy.RESTART);
const iid = await sam.register();
console.log(`iid ${iid}`);
if (iid < LAST) {
  await sam.start();
  throw new Error(`crash ${iid}`);
}
