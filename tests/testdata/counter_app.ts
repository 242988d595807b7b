// An application for supervise(): counts instances in the stored data; instances 1 and 2
// crash after start(), instance 3 stops health checking and ends normally.
import * as sam from "../../mod.ts";

sam.initialize(500, sam.RecoveryPolicy.RESTART);
// A replay in an instance: checked, but it must not overwrite what is stored.
sam.dataStore(new Uint8Array([99]));
const iid = await sam.register();
const [count] = sam.dataRestore();
await sam.start();
sam.dataStore(new Uint8Array([count + 1]));
if (iid < 3) throw new Error(`crash ${iid}`);
sam.stop();
