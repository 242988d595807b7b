// An application for supervise() under a QUORUM policy: start() waits for quorum.
import * as sam from "../../mod.ts";

sam.initialize(5000, sam.RecoveryPolicy.RESTART);
await sam.register();
await sam.start();
setInterval(() => sam.hcSend(), 100);
