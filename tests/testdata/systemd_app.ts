// A libsam-style service for systemd (tests/systemd_test.ts): it stores a count that grows
// while it runs, and prints what each instance restored and from which process.
import process from "node:process";
import { existsSync, writeFileSync } from "node:fs";
import { isMainThread } from "node:worker_threads";
import * as sam from "../../mod.ts";

// SAM_HANG_ONCE=<file>: the first process's supervisor (the main thread) hangs a moment after
// supervision began, as a supervisor that hangs does; the file says it did.
const hangOnce = process.env.SAM_HANG_ONCE;
if (isMainThread && hangOnce && !existsSync(hangOnce)) {
  writeFileSync(hangOnce, "");
  setTimeout(() => {
    for (;;);
  }, 1500);
}

sam.initialize(500, sam.RecoveryPolicy.RESTART);
const iid = await sam.register();
const saved = sam.dataRestore();
let count = saved.length === 8 ? Number(new DataView(saved.buffer).getBigUint64(0)) : 0;
const store = () => {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(count));
  sam.dataStore(bytes);
};
console.log(`instance ${iid} pid ${process.pid} restored ${count}`);
sam.addSignalListener("SIGTERM", () => {
  store();
  console.log(`instance ${iid} left at ${count}`);
  process.exit(0);
});
await sam.start();
setInterval(() => {
  sam.hcSend();
  count++;
  store();
}, 20);
