// Opens corosync's quorum and never closes it: the program must still end by itself.
import { CorosyncQuorum } from "../../corosync/quorum.ts";

const quorum = CorosyncQuorum.open();
quorum.addEventListener("change", () => console.log("change"));
console.log(`open ${quorum.quorate} ${quorum.wakeMode}`);
