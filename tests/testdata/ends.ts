// One instance that ends in the way SAM_END_MODE names, with health checking started, under
// the quit policy: the process exits with that instance's exit code.
import process from "node:process";
import * as sam from "../../mod.ts";

const mode = process.env.SAM_END_MODE;
sam.initialize(300, sam.RecoveryPolicy.QUIT);
const iid = await sam.register();
console.log(`iid ${iid}`);
await sam.start();
switch (mode) {
  case "return":
    break;
  case "process.exit":
    process.exit(3);
    break;
  case "process.exit(300)":
    process.exit(300); // 8 bits of it, as a shell sees it: 44
    break;
  case "Deno.exit":
    (globalThis as unknown as { Deno: { exit(n: number): void } }).Deno.exit(4);
    break;
  case "self.close":
    (globalThis as unknown as { self: { close(): void } }).self.close();
    break;
  case "throw":
    throw new Error("thrown on purpose");
  case "reject":
    Promise.reject(new Error("rejected on purpose"));
    break;
  case "busy":
    for (;;);
  case "busy-after-output":
    // Several writes in one turn of the event loop, which never ends.
    console.log("line 2");
    console.error("line 3");
    process.stdout.write("line 4\n");
    process.stderr.write(new TextEncoder().encode("line 5\n"));
    console.log("line %d", 6, { seven: 7 });
    for (;;);
  case "await":
    await new Promise(() => {});
    break;
  case "wait":
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    break;
  case "stopped-exit":
    sam.stop();
    process.exit(5);
}
