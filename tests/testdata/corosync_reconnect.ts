// Holds a cmap connection and a quorum source while corosync goes away and comes back:
// "write" writes a key and reports the code, "reconnect" opens cmap again and writes the key
// again, "close" ends.
import process from "node:process";
import { createInterface } from "node:readline";
import { CorosyncQuorum } from "../../corosync/quorum.ts";
import { openCmap } from "../../corosync/cmap.ts";
import { SamError } from "../../errors.ts";

const key = `resources.process.${process.pid}.state`;
const cmap = openCmap();
const quorum = CorosyncQuorum.open();
quorum.addEventListener("disconnect", (event) => {
  const error = (event as CustomEvent<SamError>).detail;
  console.log(`disconnect quorate=${quorum.quorate} code=${error.code}`);
});
const write = (label: string) => {
  try {
    cmap.setString(key, "running");
    console.log(`${label} ok connected=${cmap.connected}`);
  } catch (e) {
    if (!(e instanceof SamError)) throw e;
    console.log(`${label} ${e.code} connected=${cmap.connected} ${e.message}`);
  }
};
write("write");
const input = createInterface({ input: process.stdin });
input.on("line", (line) => {
  if (line === "write") write("write");
  else if (line === "reconnect") {
    try {
      cmap.reconnect();
      write("reconnect");
    } catch (e) {
      console.log(`reconnect ${(e as SamError).code}`);
    }
  } else if (line === "close") {
    quorum.close();
    cmap.close();
    input.close();
    process.stdin.destroy();
  }
});
