// An application for supervise() that ends with code 0 while health checking is started.
import process from "node:process";
import * as sam from "../../mod.ts";

sam.initialize(0, sam.RecoveryPolicy.RESTART);
await sam.register();
await sam.start();
process.exit(0);
