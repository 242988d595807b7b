// The import rules of sam's rooms, checked by `deno task check`:
// - the instance's side (instance/) never imports the supervisor's (supervisor/);
// - what both sides share (shared_memory/) imports neither side;
// - platform/ imports nothing above it but errors.ts;
// - systemd/ imports nothing but platform/ and the contracts;
// - no cycle of modules, type imports and dynamic imports included;
// - Atomics only in the protocol modules (shared_memory/protocol.ts, data_protocol.ts) and in
//   the files that use it on memory of their own, never on the shared words.
// Every import of the library's .ts files counts: static, `import type`, `export ... from`,
// and `import("...")` with a literal specifier. A module named by URL (the Worker's shim) is
// no import. Run: deno run --allow-read scripts/check_imports.ts
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, normalize, posix } from "node:path";
import process from "node:process";

/** Folders that are not the library. */
const NOT_LIBRARY = new Set(["tests", "bench", "demo", "scripts", "docs", "node_modules"]);

/** Files that may use Atomics: the protocol, and memory that is no shared word of sam's. */
const ATOMICS_ALLOWED = new Set([
  "shared_memory/protocol.ts",
  "shared_memory/data_protocol.ts",
  // A private 4-byte buffer to sleep 1 ms in a Worker while a descriptor is full.
  "platform/worker_output.ts",
  // A flag between corosync's quorum source and its own poll Worker.
  "corosync/quorum.ts",
]);

/** The contracts at the root, which every room may use. */
const CONTRACTS = new Set(["errors.ts", "events.ts", "options.ts", "policy.ts"]);

/** The rules on one import, from `from` to `to` (paths relative to the root, "/"-separated). */
const RULES: { why: string; breaks: (from: string, to: string) => boolean }[] = [
  {
    why: "the instance's side imports the supervisor's",
    breaks: (from, to) => from.startsWith("instance/") && to.startsWith("supervisor/"),
  },
  {
    why: "shared_memory/ (both sides use it) imports one side",
    breaks: (from, to) =>
      from.startsWith("shared_memory/") &&
      (to.startsWith("instance/") || to.startsWith("supervisor/")),
  },
  {
    why: "platform/ imports something above it",
    breaks: (from, to) =>
      from.startsWith("platform/") && !to.startsWith("platform/") && to !== "errors.ts",
  },
  {
    why: "systemd/ imports something but platform/ and the contracts",
    breaks: (from, to) =>
      from.startsWith("systemd/") && !to.startsWith("systemd/") && !to.startsWith("platform/") &&
      !CONTRACTS.has(to),
  },
];

/** Source with its comments blanked out (strings kept, so that specifiers stay). */
function withoutComments(source: string): string {
  return source.replace(
    /("(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`)|\/\/[^\n]*|\/\*[\s\S]*?\*\//g,
    (match, string) => string ?? match.replace(/[^\n]/g, " "),
  );
}

/** Every module specifier `source` imports, type and dynamic imports included. */
export function importsOf(source: string): string[] {
  const code = withoutComments(source);
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^;'"`]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of code.matchAll(pattern)) found.push(match[1]);
  }
  return found;
}

/** What is wrong with the imports of `files` (path -> source); nothing when all rules hold. */
export function checkImports(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  const graph = new Map<string, string[]>();
  for (const [from, source] of files) {
    const targets: string[] = [];
    for (const specifier of importsOf(source)) {
      if (!specifier.startsWith("./") && !specifier.startsWith("../")) continue;
      const to = posix.normalize(posix.join(posix.dirname(from), specifier));
      if (!files.has(to)) {
        problems.push(`${from}: imports ${specifier}, which is not a module of the library`);
        continue;
      }
      targets.push(to);
      for (const rule of RULES) {
        if (rule.breaks(from, to)) problems.push(`${from} -> ${to}: ${rule.why}`);
      }
    }
    graph.set(from, targets);
    if (!ATOMICS_ALLOWED.has(from) && /\bAtomics\s*\.\s*\w+/.test(withoutComments(source))) {
      problems.push(`${from}: uses Atomics outside the protocol modules`);
    }
  }
  for (const cycle of cyclesOf(graph)) problems.push(`cycle: ${cycle.join(" -> ")}`);
  return problems;
}

/** The cycles of `graph`, each once, as the path that closes it. */
function cyclesOf(graph: ReadonlyMap<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (node: string): void => {
    if (onPath.has(node)) {
      cycles.push([...path.slice(path.indexOf(node)), node]);
      return;
    }
    if (done.has(node)) return;
    path.push(node);
    onPath.add(node);
    for (const next of graph.get(node) ?? []) visit(next);
    onPath.delete(node);
    path.pop();
    done.add(node);
  };
  for (const node of [...graph.keys()].sort()) visit(node);
  return cycles;
}

/** The library's .ts files under `root`, by path relative to it. */
export function libraryFiles(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(root, dir)).sort()) {
      const path = dir === "" ? name : `${dir}/${name}`;
      if (name.startsWith(".") || (dir === "" && NOT_LIBRARY.has(name))) continue;
      if (statSync(join(root, path)).isDirectory()) walk(path);
      else if (name.endsWith(".ts")) files.set(path, readFileSync(join(root, path), "utf8"));
    }
  };
  walk("");
  return files;
}

if (import.meta.main) {
  const root = normalize(join(import.meta.dirname ?? ".", ".."));
  const files = libraryFiles(root);
  const problems = checkImports(files);
  for (const problem of problems) console.error(`check_imports: ${problem}`);
  if (problems.length > 0) process.exit(1);
  console.log(`check_imports: ${files.size} modules, the rules hold`);
}
