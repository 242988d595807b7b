// The CMAP state record read back from the state file, in the libsam style.
// SAM_CMAP_MODE=failed: instance 1 marks itself failed. =restart: instance 1 crashes,
// instance 2 stops health checking and ends, which removes the record.
import process from "node:process";
import { readFileSync } from "node:fs";
import * as sam from "../../mod.ts";

const file = process.env.SAM_STATE_FILE!;
const mode = process.env.SAM_CMAP_MODE;
const base = mode === "failed" ? sam.RecoveryPolicy.RESTART : sam.RecoveryPolicy.RESTART;
sam.initialize(250, base | sam.RecoveryPolicy.CMAP, { stateFile: file });
const iid = await sam.register();
const read = () => {
  const r = JSON.parse(readFileSync(file, "utf8"));
  return `state=${r.state} recovery=${r.recovery} poll_period=${r.poll_period} ` +
    `cmap_state=${r.cmap[`resources.process.${r.pid}.state`]} pid_ok=${r.pid === process.pid}`;
};
await sam.start();
// The supervisor publishes the record when it sees start(); wait for that on the file.
while (!read().startsWith("state=running")) await new Promise((r) => setTimeout(r, 5));
console.log(`iid ${iid} ${read()}`);
if (mode === "failed") sam.markFailed();
else if (iid === 1) throw new Error("crash");
else sam.stop();
