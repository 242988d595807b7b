// Reading environment variables without ever prompting: Deno asks for --allow-env per
// variable, and a program run without it must not be stopped by a prompt (sam only queries
// permissions). Bun and Node read them freely.
import process from "node:process";

interface DenoPermissions {
  permissions: {
    querySync(d: { name: "env"; variable: string }): { state: string };
  };
}

/** The value of each of `names` that is set and may be read here. */
export function readEnv(names: readonly string[]): Record<string, string | undefined> {
  const deno = (globalThis as { Deno?: DenoPermissions }).Deno;
  const out: Record<string, string | undefined> = {};
  for (const name of names) {
    try {
      if (deno && deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
        continue;
      }
      out[name] = process.env[name];
    } catch {
      // Not readable: as if unset.
    }
  }
  return out;
}
