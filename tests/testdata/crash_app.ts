// An application for supervise() that crashes right after start().
import * as sam from "../../mod.ts";

sam.initialize(0, sam.RecoveryPolicy.RESTART);
await sam.register();
await sam.start();
throw new Error("crash on purpose");
