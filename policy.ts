/**
 * libsam's recovery policies.
 *
 * @module
 */

/**
 * What the supervisor does when an instance fails (libsam's `sam_recovery_policy_t`).
 * `QUIT` and `RESTART` are the actions; `QUORUM` and `CMAP` are flags combined with `|`.
 *
 * @example Restart, and publish the state record
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * sam.initialize(1000, sam.RecoveryPolicy.RESTART | sam.RecoveryPolicy.CMAP);
 * ```
 */
export const RecoveryPolicy = {
  /** End supervision when an instance fails. */
  QUIT: 1,
  /** Start the next instance when one fails. */
  RESTART: 2,
  /** Flag: `start()` waits for quorum, and losing quorum triggers recovery. */
  QUORUM: 0x08,
  /** `QUORUM | QUIT`. */
  QUORUM_QUIT: 0x09,
  /** `QUORUM | RESTART`. */
  QUORUM_RESTART: 0x0a,
  /** Flag: publish the state record libsam keeps in cmap; allows `markFailed()`. */
  CMAP: 0x10,
  /** Old name of `CMAP`. */
  CONFDB: 0x10,
} as const;

/** A recovery policy: an action, optionally combined with the `QUORUM` and `CMAP` flags. */
export type RecoveryPolicy = number;
