// What the tests and the bench need to know of the runtime they run on beyond what sam's
// platform/runtime.ts offers (sam itself never asks): its name and version, and how a fixture
// program is started on it.
import process from "node:process";

const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };

/** The runtime running this code. */
export const runtimeName: "deno" | "bun" | "node" = g.Deno ? "deno" : g.Bun ? "bun" : "node";

/** Its version, such as "2.9.6". */
export const runtimeVersion: string = g.Deno?.version.deno ?? g.Bun?.version ??
  process.versions.node;

/**
 * Arguments after the runtime's executable that run `script` with all permissions and a
 * `gc()` to call (Bun has `Bun.gc` anyway). Node needs nothing for TypeScript: it strips the
 * types.
 */
export function scriptArgs(script: string): string[] {
  if (runtimeName === "deno") return ["run", "--allow-all", "--v8-flags=--expose-gc", script];
  return runtimeName === "bun" ? [script] : ["--expose-gc", script];
}
