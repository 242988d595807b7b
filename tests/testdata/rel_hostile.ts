// An application for supervise() whose first instance turns hostile: it stores a good value,
// then writes over the shared data header, both data slots and its own instance block what
// rel_hostile_plan.ts says for the seed in its URL (?seed=N), and ends. The next instance
// restores whatever is there and stores it back behind "OK" (or "ER" and the error code when
// the restore throws), so that the test can read what it got from the supervisor; it ends with
// health checking stopped, which ends supervision.
import process from "node:process";
import { workerData } from "node:worker_threads";
import * as sam from "../../mod.ts";
import type { DataRegion } from "../../shared_memory/region.ts";
import { DATA_CONTROL } from "../../shared_memory/layout.ts";
import { pattern, random } from "./rel_pattern.ts";
import { hostilePlan } from "./rel_hostile_plan.ts";

// The seed is in this module's URL. Bun 1.4.5 drops the query from import.meta.url when a
// module is imported by an absolute URL (as sam's worker shim does); the URL the supervisor
// was given is still in the shim's workerData.
const url = new URL(import.meta.url).search ? import.meta.url : workerData.mainModule;
const seed = Number(new URL(url).searchParams.get("seed"));
sam.initialize(0, sam.RecoveryPolicy.RESTART);
const iid = await sam.register();
if (iid === 1) {
  await sam.start();
  const context = (globalThis as Record<symbol, { region: DataRegion; block: Int32Array }>)[
    Symbol.for("@x/sam/instance-context")
  ];
  const { region, block } = context;
  const plan = hostilePlan(seed, region.header.length, block.length);
  sam.dataStore(pattern(seed, plan.goodLength));
  plan.header.forEach((value, i) => value !== null && Atomics.store(region.header, i, value));
  if (plan.slotSeed !== null) {
    const next = random(plan.slotSeed);
    for (const slot of region.handles.slots) {
      const bytes = new Uint8Array(slot);
      for (let i = 0; i < bytes.length; i++) bytes[i] = next() * 256;
    }
  }
  plan.block.forEach((value, i) => value !== null && Atomics.store(block, i, value));
  // Wake the supervisor on every word it may wait on.
  for (let i = 0; i < block.length; i++) Atomics.notify(block, i);
  Atomics.notify(region.header, DATA_CONTROL);
  if (plan.end === "throw") throw new Error(`hostile instance, seed ${seed}`);
  if (plan.end === "exit") process.exit(plan.exitCode);
} else {
  let verdict: Uint8Array;
  try {
    const restored = sam.dataRestore();
    verdict = new Uint8Array(2 + restored.length);
    verdict.set([0x4f, 0x4b]); // "OK"
    verdict.set(restored, 2);
  } catch (e) {
    verdict = new Uint8Array([0x45, 0x52, e instanceof sam.SamError ? e.code : 0]); // "ER"
  }
  sam.dataStore(verdict);
}
