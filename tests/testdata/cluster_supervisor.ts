// Supervises cluster_app.ts with CMAP (record required in corosync) and, with SAM_QUORUM=1,
// QUORUM from corosync's own quorum service, printing the supervisor's events. On "votes N"
// it sets quorum.expected_votes through libcmap, so that the time from that set to the
// instance's warning can be printed ("warning <id> <ms>").
import process from "node:process";
import { createInterface } from "node:readline";
import { readClockMonotonic } from "../../platform/clock.ts";
import { openCmap } from "../../corosync/cmap.ts";
import { RecoveryPolicy, supervise } from "../../mod.ts";

const quorum = process.env.SAM_QUORUM === "1" ? RecoveryPolicy.QUORUM : 0;
const supervisor = supervise(new URL("./cluster_app.ts", import.meta.url), {
  timeInterval: Number(process.env.SAM_INTERVAL ?? 1000),
  recoveryPolicy: RecoveryPolicy.RESTART | quorum | RecoveryPolicy.CMAP,
  corosyncRecord: "required",
});
// Printed after the record's sinks have written what the event announces.
const later = (line: string) => setTimeout(() => console.log(line), 0);
let setAt = 0n;
supervisor.addEventListener("status", (e) => {
  later(`status ${e.detail.status.instanceId} ${e.detail.status.state}`);
});
supervisor.addEventListener("quorum", (e) => later(`quorum ${e.detail.quorate}`));
supervisor.addEventListener("warning", (e) => {
  const ms = setAt ? (Number(readClockMonotonic() - setAt) / 1e6).toFixed(3) : "-1";
  later(`warning ${e.detail.id} ${ms}`);
});
supervisor.addEventListener("exit", (e) => later(`exit ${e.detail.id} ${e.detail.code}`));
console.log(`pid ${process.pid}`);
const input = createInterface({ input: process.stdin });
input.on("line", (line) => {
  const [command, arg] = line.split(" ");
  if (command === "votes") {
    const cmap = openCmap();
    setAt = readClockMonotonic();
    cmap.setUint32("quorum.expected_votes", Number(arg));
    cmap.close();
  } else if (command === "stop") {
    input.close();
    process.stdin.destroy();
    void supervisor.stop().then((end) => console.log(`end ${end.reason}`));
  }
});
