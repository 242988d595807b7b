/**
 * corosync's `cs_error_t` values and the one error class sam throws.
 *
 * @module
 */

/**
 * The numeric values of corosync's `cs_error_t` (`corotypes.h`). sam throws a
 * {@linkcode SamError} with one of these where libsam would return it.
 *
 * @example Checking a code
 * ```ts
 * import { CsError, SamError } from "jsr:@x/sam";
 * const e = new SamError(CsError.CS_ERR_BAD_HANDLE, "register() before initialize()");
 * console.log(e.code === CsError.CS_ERR_BAD_HANDLE); // true
 * ```
 */
export const CsError = {
  CS_OK: 1,
  CS_ERR_LIBRARY: 2,
  CS_ERR_VERSION: 3,
  CS_ERR_INIT: 4,
  CS_ERR_TIMEOUT: 5,
  CS_ERR_TRY_AGAIN: 6,
  CS_ERR_INVALID_PARAM: 7,
  CS_ERR_NO_MEMORY: 8,
  CS_ERR_BAD_HANDLE: 9,
  CS_ERR_BUSY: 10,
  CS_ERR_ACCESS: 11,
  CS_ERR_NOT_EXIST: 12,
  CS_ERR_NAME_TOO_LONG: 13,
  CS_ERR_EXIST: 14,
  CS_ERR_NO_SPACE: 15,
  CS_ERR_INTERRUPT: 16,
  CS_ERR_NAME_NOT_FOUND: 17,
  CS_ERR_NO_RESOURCES: 18,
  CS_ERR_NOT_SUPPORTED: 19,
  CS_ERR_BAD_OPERATION: 20,
  CS_ERR_FAILED_OPERATION: 21,
  CS_ERR_MESSAGE_ERROR: 22,
  CS_ERR_QUEUE_FULL: 23,
  CS_ERR_QUEUE_NOT_AVAILABLE: 24,
  CS_ERR_BAD_FLAGS: 25,
  CS_ERR_TOO_BIG: 26,
  CS_ERR_NO_SECTIONS: 27,
  CS_ERR_CONTEXT_NOT_FOUND: 28,
  CS_ERR_TOO_MANY_GROUPS: 30,
  CS_ERR_SECURITY: 100,
} as const;

/** One of the values of {@linkcode CsError}. */
export type CsError = typeof CsError[keyof typeof CsError];

/**
 * The name of a {@linkcode CsError} value, such as `"CS_ERR_BAD_HANDLE"`.
 *
 * @param code A `cs_error_t` value.
 * @returns Its name, or `"CS_ERR_<n>"` for a number corosync does not define.
 *
 * @example Naming a code
 * ```ts
 * import { csErrorName, CsError } from "jsr:@x/sam";
 * console.log(csErrorName(CsError.CS_ERR_NO_MEMORY)); // "CS_ERR_NO_MEMORY"
 * ```
 */
export function csErrorName(code: number): string {
  for (const [name, value] of Object.entries(CsError)) {
    if (value === code) return name;
  }
  return `CS_ERR_${code}`;
}

/**
 * What sam throws where libsam returns something other than `CS_OK`.
 *
 * The message starts with the code's name, followed by what was wrong.
 *
 * @example Telling a wrong state from a bad argument
 * ```ts
 * import * as sam from "jsr:@x/sam";
 * try {
 *   sam.hcSend();
 * } catch (e) {
 *   if (e instanceof sam.SamError && e.code === sam.CsError.CS_ERR_BAD_HANDLE) {
 *     console.log(e.message); // "CS_ERR_BAD_HANDLE: hcSend() needs state started, not ..."
 *   }
 * }
 * ```
 */
export class SamError extends Error {
  /** The libsam `cs_error_t` this error stands for. */
  readonly code: CsError;

  /**
   * Makes an error for `code`.
   *
   * @param code The `cs_error_t` value.
   * @param detail What was wrong, naming the value; no trailing period.
   */
  constructor(code: CsError, detail: string) {
    super(`${csErrorName(code)}: ${detail}`);
    this.name = "SamError";
    this.code = code;
  }
}
