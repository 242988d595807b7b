// Tries corosync's cmap and quorum and prints the code each one throws (or "ok").
import { CorosyncQuorum } from "../../corosync/quorum.ts";
import { readClockMonotonic } from "../../platform/clock.ts";
import { openCmap } from "../../corosync/cmap.ts";
import { SamError } from "../../errors.ts";

const attempt = (name: string, fn: () => { close(): void }) => {
  try {
    fn().close();
    console.log(`${name} ok`);
  } catch (e) {
    console.log(
      `${name} ${e instanceof SamError ? e.code : "not a SamError"} ${(e as Error).message}`,
    );
  }
};
attempt("cmap", openCmap);
attempt("quorum", () => CorosyncQuorum.open());
console.log(`monotonic ${readClockMonotonic()}`);
