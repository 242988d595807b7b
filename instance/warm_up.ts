// What an instance calls first (initialize()'s checks, register()'s publish, the data
// region's lock and copies), run once on scratch memory by a standby while it waits, so that a
// recovered instance runs these compiled rather than compiling them on its way to register().
import { handle, ONLY_NOT_INITIALIZED } from "./handle.ts";
import { admit } from "../shared_memory/data_protocol.ts";
import { INST_BYTES, SLOT_GROW_STEP } from "../shared_memory/layout.ts";
import { announceRegistered } from "../shared_memory/protocol.ts";
import { DataRegion } from "../shared_memory/region.ts";
import { checkOptions, checkPolicy, checkTimeInterval } from "../shared_memory/validate.ts";
import { RecoveryPolicy } from "../policy.ts";

/** Runs the first calls once, changing no state. */
export function warmUp(): void {
  checkTimeInterval(0);
  checkOptions(undefined, checkPolicy(RecoveryPolicy.RESTART));
  handle.require("initialize()", ONLY_NOT_INITIALIZED);
  void handle.context;
  announceRegistered(new Int32Array(new SharedArrayBuffer(INST_BYTES)));
  const region = DataRegion.create(SLOT_GROW_STEP);
  // As the supervisor admits an instance.
  admit(region.header, 1);
  region.store(1, new Uint8Array(8));
  region.size(1);
  region.restore(1, new Uint8Array(8));
}
