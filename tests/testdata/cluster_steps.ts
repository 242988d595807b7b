// A libsam-style program with CMAP (and QUORUM when SAM_QUORUM=1), doing the steps of
// SAM_STEPS_<instance id> (start, hc, stop, finalize, markfailed, exit) and dumping its own
// record with corosync-cmapctl after register() and after each step, for comparison with
// libsam_steps.c. It runs inside the test's corosync namespace.
import process from "node:process";
import { execFileSync } from "node:child_process";
import * as sam from "../../mod.ts";

const env = process.env;
const action = env.SAM_POLICY === "restart" ? sam.RecoveryPolicy.RESTART : sam.RecoveryPolicy.QUIT;
const quorum = env.SAM_QUORUM === "1" ? sam.RecoveryPolicy.QUORUM : 0;
sam.initialize(Number(env.SAM_INTERVAL ?? 10000), action | quorum | sam.RecoveryPolicy.CMAP, {
  corosyncRecord: "required",
});
const iid = await sam.register();
const prefix = `resources.process.${process.pid}.`;
const dump = (label: string) => {
  let out = "";
  try {
    out = execFileSync("corosync-cmapctl", ["-b", prefix], { encoding: "utf8" });
  } catch {
    // corosync-cmapctl -b exits non-zero when no key has the prefix.
  }
  console.log(`dump ${label} ${JSON.stringify(out)}`);
};
dump("register");
for (const step of (env[`SAM_STEPS_${iid}`] ?? "").split(" ").filter((s) => s !== "")) {
  if (step === "start") await sam.start();
  else if (step === "hc") sam.hcSend();
  else if (step === "stop") sam.stop();
  else if (step === "finalize") sam.finalize();
  else if (step === "markfailed") {
    console.log(`markfailed ${iid}`);
    sam.markFailed();
    setInterval(() => {}, 1000);
    await new Promise(() => {});
  } else if (step === "exit") {
    console.log(`exit ${iid}`);
    process.exit(0);
  } else if (step === "wait") {
    console.log("waiting");
    // A timer keeps it alive: Bun ends a Worker that only awaits a promise that never settles.
    setInterval(() => {}, 1000);
    await new Promise(() => {});
  }
  dump(step);
}
