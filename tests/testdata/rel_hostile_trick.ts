// Targeted tricks of a hostile first instance under supervise(), chosen by ?trick= in this
// module's URL; the next instance restores and stores what it got behind "OK" and ends.
// - "lock": writes the supervisor's own holder id into the lock word, removes sam's "exit"
//   listener (so that its end is seen only through the Worker's exit event) and ends.
// - "thread-id": stores the id of another live thread of the process (not the main thread) and
//   tells the supervisor, as sam's worker shim does, that this is its Linux thread; then it
//   stops sending health checks and waits to be terminated.
import process from "node:process";
import { readdirSync, readlinkSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import * as sam from "../../mod.ts";
import type { DataRegion } from "../../shared_memory/region.ts";
import { DATA_CONTROL, HOLDER_MASK, SLOT_BIT } from "../../shared_memory/layout.ts";

// Bun 1.4.5 drops the query from import.meta.url of a module imported by an absolute URL (as
// sam's worker shim does); the URL the supervisor was given is in the shim's workerData.
const url = new URL(import.meta.url).search ? import.meta.url : workerData.mainModule;
const trick = new URL(url).searchParams.get("trick");
const context = (globalThis as Record<symbol, { region: DataRegion; block: Int32Array }>)[
  Symbol.for("@x/sam/instance-context")
];
sam.initialize(100, sam.RecoveryPolicy.RESTART);
const iid = await sam.register();
if (iid === 1) {
  await sam.start();
  sam.dataStore(new Uint8Array([1, 2, 3]));
  if (trick === "lock") {
    const h = context.region.header;
    Atomics.store(h, DATA_CONTROL, (Atomics.load(h, DATA_CONTROL) & SLOT_BIT) | HOLDER_MASK);
    process.removeAllListeners("exit");
    // Ends here, health checking started: its event loop is empty.
  }
  if (trick === "thread-id") {
    const own = readlinkSync("/proc/thread-self").split("/").pop();
    const other = Number(
      readdirSync("/proc/self/task").find((tid) => tid !== own && tid !== String(process.pid)),
    );
    sam.dataStore(new Uint32Array([other]));
    parentPort!.postMessage({ type: "thread", threadId: other });
    setInterval(() => {}, 1000); // alive, without health checks: terminated at the warning
  }
} else {
  const restored = sam.dataRestore();
  const verdict = new Uint8Array(2 + restored.length);
  verdict.set([0x4f, 0x4b]);
  verdict.set(restored, 2);
  sam.dataStore(verdict);
}
