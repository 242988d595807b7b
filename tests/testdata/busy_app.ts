// An application for supervise() that hangs in a JavaScript busy loop after start().
import * as sam from "../../mod.ts";

sam.initialize(100, sam.RecoveryPolicy.QUIT);
await sam.register();
await sam.start();
for (;;);
