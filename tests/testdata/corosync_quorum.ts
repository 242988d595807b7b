// Follows corosync's quorum and prints each "change"; on "votes N" sets
// quorum.expected_votes through libcmap and reports how long the change event took; on
// "close" closes everything and ends by itself (nothing else keeps it alive).
import process from "node:process";
import { createInterface } from "node:readline";
import { CorosyncQuorum } from "../../corosync/quorum.ts";
import { readClockMonotonic } from "../../platform/clock.ts";
import { openCmap } from "../../corosync/cmap.ts";
import type { SamError } from "../../errors.ts";

const quorum = CorosyncQuorum.open();
const cmap = openCmap();
let setAt = 0n;
quorum.addEventListener("change", () => {
  const ms = setAt ? Number(readClockMonotonic() - setAt) / 1e6 : -1;
  console.log(`change ${quorum.quorate} ${ms.toFixed(3)}`);
});
quorum.addEventListener("disconnect", (event) => {
  const error = (event as CustomEvent<SamError>).detail;
  console.log(`disconnect ${quorum.connected} ${error.code}`);
});
console.log(`open ${quorum.quorate} ${quorum.wakeMode}`);
const input = createInterface({ input: process.stdin });
input.on("line", (line) => {
  const [command, arg] = line.split(" ");
  if (command === "votes") {
    setAt = readClockMonotonic();
    cmap.setUint32("quorum.expected_votes", Number(arg));
  } else if (command === "close") {
    quorum.close();
    cmap.close();
    input.close();
    process.stdin.destroy();
    console.log("closed");
  }
});
