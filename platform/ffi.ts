/**
 * The one place where calling native code differs by runtime: `Deno.dlopen` on Deno,
 * `bun:ffi` on Bun, nothing on Node. Neither is touched until {@linkcode openLibrary} is
 * called, so a program that never uses native code never loads FFI and needs no permission.
 *
 * Conventions, the same on every runtime:
 * - `"buffer"` parameters take a TypedArray (or DataView), passed by the address of its
 *   first byte; the native side may read and write it for the duration of the call.
 * - `"i64"` / `"u64"` parameters accept a bigint or a number; `"i64"` / `"u64"` results
 *   always come back as a bigint.
 * - `"pointer"` is an address as a bigint (or `null` for NULL), both as a parameter and as
 *   a result (a NULL result is `null`).
 * - `"i32"` / `"u32"` are numbers; `"void"` results are `undefined`.
 * - `nonblocking: true` (Deno) runs the call on another thread and returns a Promise of its
 *   result. Bun has no such calls: there the call runs synchronously on the calling thread
 *   and its result is returned in an already resolved Promise, so a blocking call must not
 *   be made nonblocking on Bun (see {@linkcode ffiNonblocking}). With `unref: true` as well,
 *   a pending call does not keep a Deno program alive (see {@linkcode ffiUnrefSupported}).
 *
 * @module
 */
import { CsError, SamError } from "../errors.ts";

/** A C type as this module passes it; see the module's conventions. */
export type NativeType = "void" | "i32" | "u32" | "i64" | "u64" | "pointer" | "buffer";

/** The signature of one native function. */
export interface SymbolSpec {
  /** Types of the parameters, in order. */
  parameters: readonly NativeType[];
  /** Type of the result. */
  result: NativeType;
  /**
   * Run the call on another thread and return a Promise (Deno). On Bun the call runs
   * synchronously and the Promise is already resolved.
   */
  nonblocking?: boolean;
  /**
   * With `nonblocking` on Deno: a pending call does not keep the program alive (as an
   * unref'd timer), so a call that waits for an event that may never come (a `poll`) does
   * not hold up the end of a program that has nothing else to do. It uses Deno's internal
   * `core.unrefOpPromise`; where that is missing, the call keeps the program alive.
   */
  unref?: boolean;
}

/** An opened shared library and its functions. */
export interface NativeLibrary<S extends Record<string, SymbolSpec>> {
  /** The functions, called with the module's conventions. */
  readonly symbols: { [K in keyof S]: (...args: any[]) => any };
  /** Unloads the library; its functions must not be called afterwards. */
  close(): void;
}

interface DenoFfi {
  permissions: { querySync(d: { name: string }): { state: string } };
  dlopen(path: string, symbols: Record<string, unknown>): {
    symbols: Record<string, (...args: unknown[]) => unknown>;
    close(): void;
  };
  UnsafePointer: {
    create(value: bigint): unknown;
    value(pointer: unknown): bigint | number;
  };
}

interface BunFfi {
  dlopen(path: string, symbols: Record<string, unknown>): {
    symbols: Record<string, (...args: unknown[]) => unknown>;
    close(): void;
  };
}

const g = globalThis as { Deno?: DenoFfi; Bun?: unknown };

/**
 * Whether FFI can be used without prompting anyone.
 *
 * @returns On Deno, whether the `ffi` permission is granted already (it is only queried,
 * never requested); on Bun `true`; elsewhere (Node) `false`.
 */
export function ffiAvailable(): boolean {
  if (g.Deno) {
    try {
      return g.Deno.permissions.querySync({ name: "ffi" }).state === "granted";
    } catch {
      return false;
    }
  }
  return g.Bun !== undefined;
}

/**
 * Whether `nonblocking` calls really run on another thread (Deno) rather than
 * synchronously (Bun).
 *
 * @returns `true` on Deno, `false` elsewhere.
 */
export function ffiNonblocking(): boolean {
  return g.Deno !== undefined;
}

let bunFfi: BunFfi | undefined;

function loadBunFfi(): BunFfi {
  if (bunFfi) return bunFfi;
  // A synchronous require keeps openLibrary synchronous; bun:ffi is loaded on first use only.
  const meta = import.meta as unknown as { require?: (id: string) => unknown };
  if (typeof meta.require !== "function") {
    throw new SamError(CsError.CS_ERR_LIBRARY, "bun:ffi cannot be loaded here");
  }
  bunFfi = meta.require("bun:ffi") as BunFfi;
  return bunFfi;
}

const BUN_TYPES: Record<NativeType, string> = {
  void: "void",
  i32: "i32",
  u32: "u32",
  i64: "i64",
  u64: "u64",
  pointer: "ptr",
  buffer: "buffer",
};

function denoSymbols(specs: Record<string, SymbolSpec>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    out[name] = {
      parameters: [...spec.parameters],
      result: spec.result,
      nonblocking: spec.nonblocking ?? false,
    };
  }
  return out;
}

/** How one runtime passes pointers and makes nonblocking calls. */
interface Convention {
  /** A `"pointer"` argument (a bigint address, or null) as the runtime takes it. */
  pointerIn(address: unknown): unknown;
  /** A `"pointer"` result as the module's conventions give it. */
  pointerOut(pointer: unknown): bigint | null;
  /** Makes a nonblocking call of `call` with `args` (and unrefs it when `unref`). */
  nonblocking(
    call: (...args: unknown[]) => unknown,
    args: unknown[],
    unref: boolean,
  ): Promise<unknown>;
}

function wrap(
  specs: Record<string, SymbolSpec>,
  raw: Record<string, (...args: unknown[]) => unknown>,
  convention: Convention,
): Record<string, (...args: any[]) => any> {
  const out: Record<string, (...args: any[]) => any> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const fn = raw[name];
    const pointerArgs = spec.parameters.flatMap((t, i) => t === "pointer" ? [i] : []);
    const convert = resultConverter(spec.result, convention.pointerOut);
    const call = pointerArgs.length === 0 ? fn : (...args: unknown[]) => {
      for (const i of pointerArgs) args[i] = convention.pointerIn(args[i]);
      return fn(...args);
    };
    const unref = spec.unref ?? false;
    out[name] = spec.nonblocking
      ? (...args: unknown[]) => convention.nonblocking(call, args, unref).then(convert)
      : (...args: unknown[]) => convert(call(...args));
  }
  return out;
}

function denoConvention(deno: DenoFfi): Convention {
  const unrefOp = denoUnrefOpPromise(deno);
  return {
    pointerIn: (a) =>
      a === null || a === undefined || a === 0n || a === 0
        ? null
        : deno.UnsafePointer.create(BigInt(a as bigint)),
    pointerOut: (p) => p === null ? null : BigInt(deno.UnsafePointer.value(p)),
    nonblocking(call, args, unref) {
      const pending = call(...args) as Promise<unknown>;
      // Only the op's own promise can be unref'd, not one derived from it.
      if (unref) unrefOp?.(pending);
      return pending;
    },
  };
}

function denoUnrefOpPromise(deno: DenoFfi): ((p: Promise<unknown>) => void) | undefined {
  const d = deno as unknown as Record<symbol | string, any>;
  const unref = d[d.internal as symbol]?.core?.unrefOpPromise;
  return typeof unref === "function" ? unref : undefined;
}

/**
 * Whether `unref` nonblocking calls really leave a program free to end (Deno with its
 * internal `core.unrefOpPromise`).
 *
 * @returns `true` on a Deno that offers it, `false` elsewhere.
 */
export function ffiUnrefSupported(): boolean {
  return g.Deno !== undefined && denoUnrefOpPromise(g.Deno) !== undefined;
}

/** Bun: no calls on another thread; a nonblocking call runs now, its Promise resolved. */
const bunConvention: Convention = {
  pointerIn: (a) => a === null || a === undefined ? null : Number(a),
  pointerOut: (p) => p === null || p === 0 || p === 0n ? null : BigInt(p as number),
  nonblocking: (call, args) => Promise.resolve(call(...args)),
};

function resultConverter(
  type: NativeType,
  pointer: (p: unknown) => bigint | null,
): (value: unknown) => unknown {
  switch (type) {
    case "i64":
    case "u64":
      return (v) => typeof v === "bigint" ? v : BigInt(v as number);
    case "pointer":
    case "buffer":
      return pointer;
    default:
      return (v) => v;
  }
}

/**
 * Opens a shared library and binds its functions.
 *
 * @param names Library names or paths to try in order, such as `["libcmap.so.4"]`; the
 *   first that loads is used.
 * @param symbols The functions to bind and their signatures.
 * @returns The opened library.
 * @throws {SamError} `CS_ERR_LIBRARY` when FFI is unavailable (Node, or Deno without the
 *   `ffi` permission granted) or none of `names` loads with all of `symbols`.
 */
export function openLibrary<S extends Record<string, SymbolSpec>>(
  names: readonly string[],
  symbols: S,
): NativeLibrary<S> {
  if (!ffiAvailable()) {
    throw new SamError(
      CsError.CS_ERR_LIBRARY,
      `FFI is unavailable (${g.Deno ? "Deno needs --allow-ffi" : "neither Deno nor Bun"}) ` +
        `for ${names.join(", ")}`,
    );
  }
  const failures: string[] = [];
  for (const name of names) {
    try {
      if (g.Deno) {
        const deno = g.Deno;
        const lib = deno.dlopen(name, denoSymbols(symbols));
        return {
          symbols: wrap(symbols, lib.symbols, denoConvention(deno)) as NativeLibrary<
            S
          >["symbols"],
          close: () => lib.close(),
        };
      }
      const bun = loadBunFfi();
      const bunSymbols: Record<string, unknown> = {};
      for (const [sym, spec] of Object.entries(symbols)) {
        bunSymbols[sym] = {
          args: spec.parameters.map((t) => BUN_TYPES[t]),
          returns: BUN_TYPES[spec.result === "buffer" ? "pointer" : spec.result],
        };
      }
      const lib = bun.dlopen(name, bunSymbols);
      return {
        symbols: wrap(symbols, lib.symbols, bunConvention) as NativeLibrary<S>["symbols"],
        close: () => lib.close(),
      };
    } catch (error) {
      if (error instanceof SamError) throw error;
      failures.push(`${name}: ${(error as Error).message}`);
    }
  }
  throw new SamError(CsError.CS_ERR_LIBRARY, `cannot load ${failures.join("; ")}`);
}

const encoder = new TextEncoder();

/**
 * A NUL-terminated UTF-8 copy of a string, to pass as a `"buffer"` parameter.
 *
 * @param s The string; it should not contain NUL itself (C would stop there).
 * @returns Its UTF-8 bytes followed by one 0 byte.
 */
export function cString(s: string): Uint8Array {
  const bytes = encoder.encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}
