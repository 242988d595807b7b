// prerun_app.ts under supervise(), printing the supervisor's standby events and its end in
// line with the instances' output.
import { RecoveryPolicy, supervise } from "../../mod.ts";

await using supervisor = supervise(new URL("./prerun_app.ts", import.meta.url), {
  timeInterval: 0,
  recoveryPolicy: RecoveryPolicy.RESTART,
});
supervisor.addEventListener(
  "standby",
  (e) => console.log(`standby ${e.detail.id} ${e.detail.reason}`),
);
const end = await supervisor.done;
console.log(`end ${end.reason} ${end.code}`);
