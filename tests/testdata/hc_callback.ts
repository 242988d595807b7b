// libsam's test5: event-driven health checks. The callback answers unhealthy on its 11th
// call; health checks stop, the instance is terminated and the next one restores 11.
import * as sam from "../../mod.ts";

sam.initialize(100, sam.RecoveryPolicy.RESTART);
const iid = await sam.register();
console.log(`iid ${iid}`);
if (iid === 1) {
  let count = 0;
  sam.hcCallbackRegister(() => {
    count++;
    sam.dataStore(new Uint8Array([count]));
    return count > 10 ? 1 : 0;
  });
  await sam.start();
} else {
  console.log(`restored ${sam.dataRestore()[0]}`);
}
