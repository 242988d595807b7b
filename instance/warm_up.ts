// What an instance calls first (initialize()'s checks, register()'s publish, the data
// region's lock and copies), run once on scratch memory by a standby while it waits, so that a
// recovered instance runs these compiled rather than compiling them on its way to register().
import { ONLY_NOT_INITIALIZED, requireState } from "./handle.ts";
import { instanceContext } from "./context.ts";
import { INST_BYTES, INST_REGISTERED, SLOT_GROW_STEP } from "../shared_memory/layout.ts";
import { publishChange } from "../shared_memory/protocol.ts";
import { DataRegion } from "../shared_memory/region.ts";
import { checkOptions, checkPolicy, checkTimeInterval } from "../shared_memory/validate.ts";
import { RecoveryPolicy } from "../policy.ts";

/** Runs the first calls once, changing no state. */
export function warmUp(): void {
  checkTimeInterval(0);
  checkOptions(undefined, checkPolicy(RecoveryPolicy.RESTART));
  requireState("initialize()", ONLY_NOT_INITIALIZED);
  instanceContext();
  publishChange(new Int32Array(new SharedArrayBuffer(INST_BYTES)), INST_REGISTERED, 1);
  const region = DataRegion.create(SLOT_GROW_STEP);
  region.admit(1);
  region.store(1, new Uint8Array(8));
  region.size(1);
  region.restore(1, new Uint8Array(8));
}
