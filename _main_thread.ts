// register() on the main thread: this thread becomes the supervisor of the program, run again
// in Workers. Loaded only there, so that an instance never loads the supervisor.
import { runtime } from "./_runtime.ts";
import { signalNumber } from "./_signals.ts";
import type { DataRegion } from "./_region.ts";
import type { ClusterLinks } from "./_cluster.ts";
import type { SuperviseOptions } from "./options.ts";
import { _openSupervisor } from "./supervisor.ts";
import { systemdNotifier } from "./systemd/notifier.ts";

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
  const supervisor = _openSupervisor({
    module,
    options: logged,
    region,
    warnSignal,
    mainThread: true,
    cluster,
  });
  // Under systemd (Type=notify): ready, reloading, stopping, the status and the watchdog.
  const notifier = systemdNotifier();
  if (notifier !== null) {
    const types = ["status", "reload"] as const;
    for (const type of types) {
      supervisor.addEventListener(type, (e) => notifier.event(type, e.detail as never));
    }
  }
  // SIGINT or SIGTERM to the process stops supervision the graceful way; the process then
  // exits as a shell reports a signalled process.
  let signalled = 0;
  for (const name of ["SIGINT", "SIGTERM"]) {
    runtime.addProcessSignalListener(name, () => {
      signalled ||= signalNumber(name);
      notifier?.stopping(name);
      void supervisor.stop();
    });
  }
  // The reload signal (SIGHUP unless options.reloadSignal says) reloads the program in place.
  const reloadSignal = options.reloadSignal === undefined ? "SIGHUP" : options.reloadSignal;
  if (reloadSignal !== null) {
    runtime.addProcessSignalListener(reloadSignal, () => void supervisor.reload());
  }
  void supervisor.done.then(async (end) => {
    notifier?.ended(end);
    await notifier?.channel.flushed();
    notifier?.channel.close();
    runtime.exit(signalled ? 128 + signalled : end.code);
  });
}
