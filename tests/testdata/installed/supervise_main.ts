// supervise() as a user of the installed package embeds it: the instance's module beside the
// program, given by URL; the program prints what supervision saw and exits with its code.
import { RecoveryPolicy, supervise } from "@x/sam";
import process from "node:process";

await using supervisor = supervise(new URL("./supervise_app.ts", import.meta.url), {
  timeInterval: 1000,
  recoveryPolicy: RecoveryPolicy.RESTART,
  data: new TextEncoder().encode("given by the program"),
  log: false,
});
supervisor.addEventListener("restart", (e) => console.log(`restart ${e.detail.id}`));
const { code, reason } = await supervisor.done;
console.log(`done ${reason} ${code} "${new TextDecoder().decode(supervisor.data())}"`);
process.exitCode = code;
