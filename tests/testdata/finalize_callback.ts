// finalize() while a health-check callback is registered and started: the checks stop and
// the instance ends normally, with nothing left waiting.
import * as sam from "../../mod.ts";

sam.initialize(100, sam.RecoveryPolicy.RESTART);
const iid = await sam.register();
console.log(`iid ${iid}`);
let calls = 0;
sam.hcCallbackRegister(async () => {
  calls++;
  await null;
  return true;
});
await sam.start();
setTimeout(() => {
  sam.finalize();
  console.log(`finalized after ${calls > 0 ? "some" : "no"} callbacks`);
}, 350);
