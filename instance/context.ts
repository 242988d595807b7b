// The instance's side of the shared state, set up by worker_shim.ts before the application
// is imported. It is keyed on a global symbol so that it is found even when the application
// loads its own copy of this library.
import type { DataRegion } from "../shared_memory/region.ts";

export interface InstanceContext {
  /** This instance's id; 0 in a standby until it is activated. */
  id: number;
  /** The instance block (see shared_memory/layout.ts). */
  readonly block: Int32Array;
  /** The stored data, once activated. */
  readonly region: DataRegion;
  /**
   * In a standby that runs the application ahead: the data as it is stored now, for reads
   * before its activation (which the supervisor then checks are still true). In a reload's
   * instance: the running instance's data, for reads until it takes over.
   */
  readonly replayRegion: DataRegion | null;
  /** In such a standby: resolves with the instance id at activation. */
  readonly activated: Promise<number> | null;
  /** The supervisor's authoritative time interval and policy. */
  readonly timeInterval: number;
  readonly recoveryPolicy: number;
  /** Listeners for the warning signal, by signal number. */
  readonly signalListeners: Map<number, Set<() => void>>;
}

const KEY = Symbol.for("@x/sam/instance-context");

export function instanceContext(): InstanceContext | undefined {
  return (globalThis as Record<symbol, InstanceContext | undefined>)[KEY];
}

export function setInstanceContext(context: InstanceContext): void {
  (globalThis as Record<symbol, InstanceContext | undefined>)[KEY] = context;
}
