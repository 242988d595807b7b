// The CMAP state record read back from the state file, in the libsam style (libsam's test8).
// SAM_CMAP_MODE=quit: the record right after register(), start() and stop(), last_updated
// moving with health checks, then a normal end, which removes the record.
// SAM_CMAP_MODE=failed: instance 1 marks itself failed. =restart: instance 1 crashes,
// instance 2 stops health checking and ends, which removes the record.
import process from "node:process";
import { readFileSync } from "node:fs";
import * as sam from "../../mod.ts";

const file = process.env.SAM_STATE_FILE!;
const mode = process.env.SAM_CMAP_MODE;
const action = mode === "quit" ? sam.RecoveryPolicy.QUIT : sam.RecoveryPolicy.RESTART;
sam.initialize(2000, action | sam.RecoveryPolicy.CMAP, { stateFile: file });
const iid = await sam.register();
const record = () => JSON.parse(readFileSync(file, "utf8"));
const read = () => {
  const r = record();
  return `state=${r.state} recovery=${r.recovery} poll_period=${r.poll_period} ` +
    `cmap_state=${r.cmap[`resources.process.${r.pid}.state`]} pid_ok=${r.pid === process.pid}`;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lastUpdated = () => BigInt(readFileSync(file, "utf8").match(/"last_updated":(\d+)/)![1]);
/** The record's last_updated once the supervisor has written one newer than `than`. */
async function lastUpdatedAfter(than: bigint): Promise<bigint> {
  // The supervisor writes the file for other processes; nothing tells this one when.
  for (let tries = 0; tries < 400; tries++) {
    const value = lastUpdated();
    if (value > than) return value;
    await sleep(5);
  }
  throw new Error(`last_updated stayed at ${than}`);
}
if (mode === "quit") {
  console.log(`after register: ${read()}`);
  await sam.start();
  console.log(`after start: ${record().state}`);
  sam.stop();
  console.log(`after stop: ${record().state}`);
  await sleep(300);
  await sam.start();
  console.log(`after start 2: ${record().state}`);
  // start() counts as a health check, and returns once the record says so.
  const first = lastUpdated();
  await sleep(900); // the gap between two health checks that last_updated should show
  sam.hcSend();
  const second = await lastUpdatedAfter(first);
  const ms = Number((second - first) / 1_000_000n);
  console.log(
    `last_updated moved ${ms >= 500 && ms <= 2000 ? "within" : `outside (${ms})`} 500..2000 ms`,
  );
  sam.stop();
  console.log(`after stop 2: ${record().state}`);
} else {
  await sam.start();
  console.log(`iid ${iid} ${read()}`);
  if (mode === "failed") {
    // markFailed() terminates this instance at once; the line above is out all the same.
    sam.markFailed();
  } else if (iid === 1) throw new Error("crash");
  else sam.stop();
}
