/**
 * sam: corosync's Simple Availability Manager (libsam) for Deno and Bun, with threads in
 * place of processes. The main thread supervises the program, run again in a Worker:
 * health checks with deadlines, a warning, termination, a restart with the next instance id,
 * and stored data that survives from one instance to the next in shared memory.
 *
 * @example The libsam style
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * sam.initialize(1000, sam.RecoveryPolicy.RESTART);
 * const iid = await sam.register(); // the main thread stays here, supervising
 * const saved = sam.dataRestore(); // what the previous instance stored
 * await sam.start();
 * setInterval(() => {
 *   sam.hcSend();
 *   sam.dataStore(new TextEncoder().encode(`instance ${iid}`));
 * }, 200);
 * ```
 *
 * @module
 */
export { CsError, csErrorName, SamError } from "./errors.ts";
export { RecoveryPolicy } from "./policy.ts";
export type { StorableData } from "./shared_memory/bytes.ts";
export type { QuorumSource, SamOptions, SuperviseOptions } from "./options.ts";
export { dataGetsize, dataRestore, dataStore } from "./data.ts";
export { addSignalListener, removeSignalListener } from "./signal_listeners.ts";
export {
  finalize,
  hcCallbackRegister,
  hcSend,
  type HealthCheckCallback,
  initialize,
  markFailed,
  register,
  start,
  stop,
  warnSignalSet,
} from "./sam.ts";
export { supervise, Supervisor } from "./supervisor.ts";
export {
  corosyncQuorum,
  type CorosyncQuorumOptions,
  type CorosyncQuorumSource,
  type CorosyncQuorumWake,
} from "./corosync.ts";
export type {
  ReloadFailure,
  ReloadResult,
  SupervisorEnd,
  SupervisorEventDetails,
  SupervisorEventMap,
  SupervisorState,
  SupervisorStatus,
} from "./events.ts";
