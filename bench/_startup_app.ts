// A small libsam-style program for startup_to_first_register_ms: instance 1 prints the time
// (epoch ms, with fractions) its register() returned, and ends, which ends supervision.
import * as sam from "../mod.ts";

sam.initialize(0, sam.RecoveryPolicy.QUIT);
await sam.register();
console.log(performance.timeOrigin + performance.now());
