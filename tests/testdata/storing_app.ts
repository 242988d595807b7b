// An application for supervise() that stores 1 MiB values without pause, each filled with
// one byte, yielding to its event loop between stores so that it can be terminated.
import * as sam from "../../mod.ts";

sam.initialize(0, sam.RecoveryPolicy.QUIT);
await sam.register();
await sam.start();
const value = new Uint8Array(1024 * 1024);
for (let n = 1;; n = (n % 250) + 1) {
  sam.dataStore(value.fill(n));
  await new Promise((r) => setImmediate(r));
}
