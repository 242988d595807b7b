/**
 * corosync's quorum service as a {@linkcode QuorumSource}, for {@linkcode supervise} users who
 * want to watch it themselves or share one connection. A `QUORUM` policy without a `quorum`
 * option opens one of its own.
 *
 * @module
 */
import type { CorosyncQuorumOptions } from "./corosync/quorum.ts";
import { ReopeningQuorum } from "./corosync/reopening_quorum.ts";
import type { QuorumSource } from "./options.ts";

export type { CorosyncQuorumOptions, CorosyncQuorumWake } from "./corosync/quorum.ts";

/** corosync's quorum, as {@linkcode corosyncQuorum} returns it. */
export interface CorosyncQuorumSource extends QuorumSource {
  /** Whether corosync's quorum service is connected now (it is inquorate while not). */
  readonly connected: boolean;
  /** Stops following corosync's quorum: no event comes afterwards. */
  close(): void;
}

/**
 * Connects to corosync's quorum service (libquorum, through the runtime's FFI). `quorate` is
 * corosync's answer and a `"change"` event comes when it flips; while corosync cannot be
 * reached the source is inquorate and tries to connect again every half second. It never
 * blocks the event loop and never keeps a program alive that has nothing else to do.
 *
 * @param options How to wait for news; the default suits the runtime.
 * @returns A quorum source that knows the current quorum; `close()` it when done.
 * @throws {SamError} `CS_ERR_LIBRARY` when FFI is not permitted (Deno without `--allow-ffi`;
 *   it is queried, never prompted), libquorum is not installed, or corosync cannot be reached.
 *
 * @example Supervise under corosync's quorum
 * ```ts
 * import { corosyncQuorum, RecoveryPolicy, supervise } from "jsr:@x/sam";
 * const quorum = corosyncQuorum();
 * quorum.addEventListener("change", () => console.log(`quorate: ${quorum.quorate}`));
 * const supervisor = supervise(new URL("./app.ts", import.meta.url), {
 *   timeInterval: 1000,
 *   recoveryPolicy: RecoveryPolicy.QUORUM_RESTART | RecoveryPolicy.CMAP,
 *   quorum,
 * });
 * await supervisor.done;
 * quorum.close();
 * ```
 */
export function corosyncQuorum(options: CorosyncQuorumOptions = {}): CorosyncQuorumSource {
  return new ReopeningQuorum(options);
}
