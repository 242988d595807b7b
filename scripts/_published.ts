// The files JSR gets when sam is published: exactly what `deno publish --dry-run` lists, so
// that the installed-package tests and the package builders see what users get.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";

/** The project's root directory. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));

/** What deno.json says of the package. */
export interface PackageConfig {
  /** The scoped name, such as "@x/sam". */
  name: string;
  /** The version being published. */
  version: string;
  /** Export name ("." or "./worker_shim") to the module's path ("./mod.ts"). */
  exports: Record<string, string>;
}

/** Reads the package's name, version and exports from `root`'s deno.json. */
export function packageConfig(root: string = ROOT): PackageConfig {
  const config = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
  const exports = typeof config.exports === "string" ? { ".": config.exports } : config.exports;
  return { name: config.name, version: config.version, exports };
}

/**
 * The command that runs Deno: this process on Deno, else `$SAM_DENO` (set by
 * scripts/test_all.ts, which runs on Deno), else Deno from the npm registry.
 */
export function denoCommand(): string[] {
  if ("Deno" in globalThis) return [process.execPath];
  if (process.env.SAM_DENO) return [process.env.SAM_DENO];
  return ["npx", "-y", "deno@2.9.6"];
}

/** Paths (relative to `root`, with "/") of the files `deno publish --dry-run` lists. */
export function publishedFiles(root: string = ROOT): string[] {
  const [command, ...args] = denoCommand();
  const r = spawnSync(command, [...args, "publish", "--dry-run", "--allow-dirty", "--no-check"], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  if (r.status !== 0) throw new Error(`deno publish --dry-run failed:\n${r.stderr}${r.stdout}`);
  const files = [...`${r.stdout}\n${r.stderr}`.matchAll(/^\s+(file:\/\/\S+)\s+\(/gm)]
    .map((m) => relative(root, fileURLToPath(m[1])).split("\\").join("/"));
  if (!files.includes("mod.ts")) throw new Error(`no file list in:\n${r.stderr}${r.stdout}`);
  return files.sort();
}
