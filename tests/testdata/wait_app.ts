// An application for supervise() that hangs asleep in Atomics.wait after start().
import * as sam from "../../mod.ts";

sam.initialize(100, sam.RecoveryPolicy.QUIT);
await sam.register();
await sam.start();
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
