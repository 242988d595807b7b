// Instances 1 to 4 each print a line to stderr, then end with health checking started: the
// odd ones with an uncaught error whose cause takes 30 ms to describe, the even ones with
// three more lines and process.exit(1). Instance 5 prints its line and ends. Each instance's
// last output must come before the next instance's first line.
import process from "node:process";
import * as sam from "../../mod.ts";

const LAST = 5;
sam.initialize(0, sam.RecoveryPolicy.RESTART);
const iid = await sam.register();
console.error(`instance ${iid} is up`);
if (iid < LAST) {
  await sam.start();
  if (iid % 2 === 1) {
    const cause = {
      [Symbol.for("nodejs.util.inspect.custom")]: () => {
        const until = performance.now() + 30;
        while (performance.now() < until); // a slow description, as of a large object
        return `cause ${iid}`;
      },
    };
    throw new Error(`instance ${iid} failed`, { cause });
  }
  for (let line = 1; line <= 3; line++) console.error(`instance ${iid} last line ${line}`);
  process.exit(1);
}
