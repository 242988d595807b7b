// The state of the libsam-style calls in this thread (libsam's handle), shared by sam.ts,
// data.ts and signal_listeners.ts. On the main thread it lasts until register() hands over to
// the supervisor; in an instance it is the instance's own.
import type { DataRegion } from "../shared_memory/region.ts";
import { SIGTERM } from "../shared_memory/signals.ts";
import { CsError, SamError } from "../errors.ts";
import type { SamOptions } from "../options.ts";
import type { ClusterLinks } from "../corosync/connect.ts";

/** libsam's states of its handle. */
export const State = {
  NOT_INITIALIZED: "not initialized",
  INITIALIZED: "initialized",
  REGISTERED: "registered",
  STARTED: "started",
  FINALIZED: "finalized",
} as const;
export type State = typeof State[keyof typeof State];

/** A health-check callback: healthy is `0` or `true`; anything else, a throw or a rejection is not. */
export type HealthCheckCallback = () => number | boolean | Promise<number | boolean>;

/** The handle. */
export const api = {
  state: State.NOT_INITIALIZED as State,
  timeInterval: 0,
  recoveryPolicy: 0,
  options: {} as SamOptions,
  /** The main thread's region, before register() hands it to the supervisor. */
  mainRegion: undefined as DataRegion | undefined,
  mainWarnSignal: SIGTERM,
  /** What the main thread's initialize() connected to in corosync, for register(). */
  cluster: undefined as ClusterLinks | undefined,
  hcCallback: null as HealthCheckCallback | null,
  /** start() is waiting for quorum. */
  starting: false,
  /** register() is waiting for a standby's activation. */
  registering: false,
};

/** libsam's "in use" states: initialized, and not yet finalized. */
export const IN_USE: readonly State[] = [State.INITIALIZED, State.REGISTERED, State.STARTED];
export const ONLY_NOT_INITIALIZED: readonly State[] = [State.NOT_INITIALIZED];
export const ONLY_INITIALIZED: readonly State[] = [State.INITIALIZED];
export const ONLY_REGISTERED: readonly State[] = [State.REGISTERED];
export const ONLY_STARTED: readonly State[] = [State.STARTED];
export const REGISTERED_OR_STARTED: readonly State[] = [State.REGISTERED, State.STARTED];

/**
 * Throws libsam's CS_ERR_BAD_HANDLE unless the handle is in one of `allowed`. The allowed
 * states come as constant arrays: dataStore() and friends call this every time, so it
 * allocates nothing.
 */
export function requireState(call: string, allowed: readonly State[]): void {
  if (!allowed.includes(api.state)) {
    throw new SamError(
      CsError.CS_ERR_BAD_HANDLE,
      `${call} needs state ${allowed.join(" or ")}, not ${api.state}`,
    );
  }
}

/** In an instance: whether calls act for real (after register()) rather than replay. */
export function acting(): boolean {
  return api.state === State.REGISTERED || api.state === State.STARTED;
}
