// libsam's test1, time scaled down: two instances that stop answering, then one that checks
// the state machine, finalizes, and finds every call refused.
import * as sam from "../../mod.ts";

const code = (f: () => unknown) => {
  try {
    const r = f();
    if (r instanceof Promise) r.catch(() => {});
    return "ok";
  } catch (e) {
    return e instanceof sam.SamError ? e.code : String(e);
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

sam.initialize(200, sam.RecoveryPolicy.RESTART);
const iid = await sam.register();
console.log(`iid ${iid}`);
if (iid === 1 || iid === 2) {
  await sam.start();
  for (let i = 0; i < 3; i++) {
    await sleep(50);
    sam.hcSend();
  }
  if (iid === 2) {
    sam.stop();
    await sleep(400); // longer than the interval: stopped, so not late
    console.log(`iid ${iid}: still here after a stopped pause`);
  }
  await sam.start();
  await sleep(5000); // no health check: terminated at the warning (no listener)
  console.log(`iid ${iid}: FAIL not terminated`);
} else if (iid === 3) {
  const rejected = await sam.start().then(() => "ok", (e) => e.code); // already registered: ok
  console.log(`initialize again: ${code(() => sam.initialize(200, sam.RecoveryPolicy.RESTART))}`);
  console.log(`start: ${rejected}`);
  console.log(`stop: ${code(() => sam.stop())}`);
  console.log(`finalize: ${code(() => sam.finalize())}`);
  console.log(`finalize again: ${code(() => sam.finalize())}`);
  const after = [
    code(() => sam.initialize(2, sam.RecoveryPolicy.RESTART)),
    await sam.start().then(() => "ok", (e) => e.code),
    code(() => sam.stop()),
    await sam.register().then(() => "ok", (e) => e.code),
    code(() => sam.hcSend()),
    code(() => sam.hcCallbackRegister(null)),
  ];
  console.log(`after finalize: ${after.join(",")}`);
}
