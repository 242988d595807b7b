// register() on the main thread: this thread becomes the supervisor of the program, run again
// in Workers. Loaded only there, so that an instance never loads the supervisor.
import type { ClusterLinks } from "../corosync/connect.ts";
import type { SuperviseOptions } from "../options.ts";
import { runtime } from "../platform/runtime.ts";
import { SUPERVISOR_HOLDER } from "../shared_memory/layout.ts";
import type { DataRegion } from "../shared_memory/region.ts";
import { signalNumber } from "../shared_memory/signals.ts";
import { systemdService } from "../systemd/service.ts";
import { createEngine } from "./assembly.ts";
import { dispatcher, type Emit } from "./log.ts";
import { RegionKeeper } from "./region_keeper.ts";

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
  const keeper = new RegionKeeper(region);
  // Under systemd (Type=notify): ready, reloading, stopping, the status, the watchdog, and the
  // stored data in its fd store, where instance 1 restores it from after a restart.
  const systemd = systemdService({
    maxDataSize: region.maxDataSize,
    version: () => keeper.version(),
    snapshot: () => region.snapshot(),
    restore: (value) => region.store(SUPERVISOR_HOLDER, value, false),
  });
  // The libsam style logs each recovery step to stderr unless told otherwise.
  const logged = { ...options, log: options.log ?? true };
  const log = dispatcher(logged, null);
  const emit: Emit = systemd === null ? log : (type, detail) => {
    log(type, detail);
    systemd.event(type, detail);
  };
  const spec = { module, options: logged, region, warnSignal, mainThread: true, cluster };
  const engine = createEngine(spec, emit, keeper);
  // SIGINT or SIGTERM to the process stops supervision the graceful way; the process then
  // exits as a shell reports a signalled process.
  let signalled = 0;
  for (const name of ["SIGINT", "SIGTERM"]) {
    runtime.addProcessSignalListener(name, () => {
      signalled ||= signalNumber(name);
      systemd?.stopping(name);
      void engine.stop();
    });
  }
  // The reload signal (SIGHUP unless options.reloadSignal says) reloads the program in place.
  const reloadSignal = options.reloadSignal === undefined ? "SIGHUP" : options.reloadSignal;
  if (reloadSignal !== null) {
    runtime.addProcessSignalListener(reloadSignal, () => void engine.reload());
  }
  engine.begin();
  void engine.done.then(async (end) => {
    await systemd?.ended(end);
    runtime.exit(signalled ? 128 + signalled : end.code);
  });
}
