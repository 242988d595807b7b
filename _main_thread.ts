// register() on the main thread: this thread becomes the supervisor of the program, run again
// in Workers. Loaded only there, so that an instance never loads the supervisor.
import { runtime } from "./_runtime.ts";
import { signalNumber } from "./_signals.ts";
import type { DataRegion } from "./_region.ts";
import type { ClusterLinks } from "./_cluster.ts";
import type { SuperviseOptions } from "./options.ts";
import { _openSupervisor } from "./supervisor.ts";
import { SYSTEMD_VARIABLES, type SystemdNotifier, systemdNotifier } from "./systemd/notifier.ts";
import { type DataMemfd, FD_NAME, openDataMemfd } from "./systemd/fd_store.ts";
import { readEnv } from "./platform/env.ts";
import { SUPERVISOR_HOLDER } from "./_layout.ts";
import type { Supervisor } from "./supervisor.ts";

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
  const env = readEnv([...SYSTEMD_VARIABLES, "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"]);
  // What systemd's fd store kept of the stored data is what instance 1 restores.
  const memfd = env.NOTIFY_SOCKET ? openDataMemfd(env, region.maxDataSize) : null;
  if (memfd?.value) region.store(SUPERVISOR_HOLDER, memfd.value, false);
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
  const notifier = systemdNotifier(env);
  if (notifier !== null) {
    const types = ["status", "reload"] as const;
    for (const type of types) {
      supervisor.addEventListener(type, (e) => notifier.event(type, e.detail as never));
    }
  }
  const mirror = notifier === null || memfd === null
    ? null
    : keepInFdStore(supervisor, region, notifier, memfd);
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
    mirror?.();
    notifier?.ended(end);
    await notifier?.channel.flushed();
    notifier?.channel.close();
    runtime.exit(signalled ? 128 + signalled : end.code);
  });
}

/** How often the stored data's copy in systemd's fd store follows it, at most. */
const FD_STORE_EVERY_MS = 100;

/**
 * Keeps a copy of the stored data in `memfd`, which systemd holds (FDSTORE=1): every
 * FD_STORE_EVERY_MS when it changed, at every end of an instance, and at the end. Returns the
 * copy step, for the last one.
 */
function keepInFdStore(
  supervisor: Supervisor,
  region: DataRegion,
  notifier: SystemdNotifier,
  memfd: DataMemfd,
): (() => void) | null {
  if (!notifier.channel.passesFds) return null;
  if (!memfd.restored) notifier.channel.send(`FDSTORE=1\nFDNAME=${FD_NAME}`, [memfd.fd]);
  let copied = -1;
  const copy = () => {
    const version = region.version();
    if (version === copied) return;
    try {
      if (memfd.write(region.snapshot())) copied = version;
    } catch {
      // Locked by an instance for long: the next turn copies it.
    }
  };
  copy();
  const timer = setInterval(copy, FD_STORE_EVERY_MS);
  (timer as { unref?: () => void }).unref?.();
  supervisor.addEventListener("exit", copy);
  return copy;
}
