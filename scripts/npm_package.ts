// sam as JSR's npm-compatible package (what `npx jsr add @x/sam` installs), built by JSR's
// rules from the files `deno publish` would upload: every module transpiled to .js with only
// the specifiers of import and export declarations and of `import("literal")` rewritten from
// .ts to .js (jsr-io/jsr, api/src/npm/import_transform.rs); other files as they are; a
// package.json named @jsr/<scope>__<name> whose exports point at the .js files. JSR also
// writes a .d.ts beside each module; these builds leave them out (no type checker here).
//
//   deno run --allow-all scripts/npm_package.ts [dir]   writes the package and its tarball
import { spawnSync } from "node:child_process";
import * as nodeModule from "node:module";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { packageConfig, publishedFiles, ROOT } from "./_published.ts";

type Strip = (code: string, options: { mode: "strip" }) => string;
interface BunTranspiler {
  transformSync(code: string): string;
}
interface BunLike {
  Transpiler: new (options: { loader: "ts"; target: string }) => BunTranspiler;
}

/** TypeScript to JavaScript with the runtime's own transpiler (sam's code erases cleanly). */
function transpiler(): (code: string) => string {
  const strip = (nodeModule as unknown as { stripTypeScriptTypes?: Strip }).stripTypeScriptTypes;
  if (strip) return (code) => strip(code, { mode: "strip" });
  const bun = (globalThis as { Bun?: BunLike }).Bun;
  if (bun) {
    const t = new bun.Transpiler({ loader: "ts", target: "node" });
    return (code) => t.transformSync(code);
  }
  throw new Error("no TypeScript transpiler in this runtime (Node 22.13+, Deno or Bun)");
}

/** `./x.ts` to `./x.js`, only in import/export declarations and `import("...")`. */
export function rewriteSpecifiers(code: string): string {
  return code.replace(
    /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"'\n]*?)\.ts\2/g,
    (_m, head: string, quote: string, path: string) => `${head}${quote}${path}.js${quote}`,
  );
}

const toJs = (path: string) => path.replace(/\.ts$/, ".js");

/**
 * Writes the package into `dir`/package and packs it; returns the tarball's path.
 */
export function buildNpmPackage(dir: string, root: string = ROOT): string {
  const { name, version, exports } = packageConfig(root);
  const transpile = transpiler();
  const out = join(dir, "package");
  for (const file of publishedFiles(root)) {
    if (file === "deno.json") continue;
    const source = readFileSync(join(root, file), "utf8");
    const [target, text] = file.endsWith(".ts")
      ? [toJs(file), rewriteSpecifiers(transpile(source))]
      : [file, source];
    mkdirSync(dirname(join(out, target)), { recursive: true });
    writeFileSync(join(out, target), text);
  }
  const [scope, pkg] = name.slice(1).split("/");
  const npmExports = Object.fromEntries(
    Object.entries(exports).map(([key, path]) => [key, { default: toJs(path) }]),
  );
  writeFileSync(
    join(out, "package.json"),
    JSON.stringify(
      {
        name: `@jsr/${scope}__${pkg}`,
        version,
        homepage: `https://jsr.io/${name}`,
        type: "module",
        dependencies: {},
        exports: npmExports,
      },
      null,
      2,
    ),
  );
  const r = spawnSync("npm", ["pack", "--silent", "--pack-destination", dir], {
    cwd: out,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`npm pack failed: ${r.stderr}`);
  return join(dir, r.stdout.trim().split("\n").pop()!);
}

if (import.meta.main) {
  const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), "sam-npm-"));
  console.log(buildNpmPackage(dir));
}
