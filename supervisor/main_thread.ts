// register() on the main thread: this thread becomes the supervisor of the program, run again
// in Workers. Loaded only there, so that an instance never loads the supervisor.
import type { ClusterLinks } from "../corosync/connect.ts";
import type { SuperviseOptions } from "../options.ts";
import { runtime } from "../platform/runtime.ts";
import type { DataRegion } from "../shared_memory/region.ts";
import { signalNumber } from "../shared_memory/signals.ts";
import { createEngine } from "./assembly.ts";
import { dispatcher } from "./log.ts";

/**
 * Supervises `module` from this main thread and ends the process with the exit code of
 * supervision: the last instance's, or 128 + the signal that stopped it.
 */
export function superviseMainThread(
  module: string,
  options: SuperviseOptions,
  region: DataRegion,
  warnSignal: number,
  cluster?: ClusterLinks,
): void {
  // The libsam style logs each recovery step to stderr unless told otherwise.
  const logged = { ...options, log: options.log ?? true };
  const spec = { module, options: logged, region, warnSignal, mainThread: true, cluster };
  const engine = createEngine(spec, dispatcher(logged, null));
  // SIGINT or SIGTERM to the process stops supervision the graceful way; the process then
  // exits as a shell reports a signalled process.
  let signalled = 0;
  for (const name of ["SIGINT", "SIGTERM"]) {
    runtime.addProcessSignalListener(name, () => {
      signalled ||= signalNumber(name);
      void engine.stop();
    });
  }
  engine.begin();
  void engine.done.then((end) => runtime.exit(signalled ? 128 + signalled : end.code));
}
