// A libsam-style program for the supervisor's log: instance 1 stops sending health checks and
// ignores its warning, instance 2 crashes, instance 3 ends normally. SAM_LOG=0 turns the log
// off; SAM_LOG=events prints every supervisor event the onEvent option hears, on stdout.
import process from "node:process";
import * as sam from "../../mod.ts";

const mode = process.env.SAM_LOG;
sam.initialize(200, sam.RecoveryPolicy.RESTART, {
  log: mode !== "0",
  onEvent: mode === "events" ? (e) => console.log(`event ${e.type}`) : undefined,
});
const iid = await sam.register();
if (iid === 1) {
  sam.addSignalListener("SIGTERM", () => {});
  await sam.start();
  setInterval(() => {}, 1000); // alive, but no health checks
} else if (iid === 2) {
  await sam.start();
  throw new Error("crash 2");
}
