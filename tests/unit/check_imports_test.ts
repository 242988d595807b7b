// The import rules of scripts/check_imports.ts, on small made-up trees and on sam's own.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { checkImports, importsOf, libraryFiles } from "../../scripts/check_imports.ts";

const tree = (files: Record<string, string>) => new Map(Object.entries(files));

test("importsOf() finds static, type, re-export, side-effect and literal dynamic imports, not commented ones", () => {
  const source = [
    'import { a } from "./a.ts";',
    'import type { B } from "../b.ts";',
    "import {\n  c,\n  type D,\n} from './c.ts';",
    'export { e } from "./e.ts";',
    'import "./f.ts";',
    'const g = await import("./g.ts");',
    "type H = typeof import('./h.ts');",
    '// import { x } from "./x.ts";',
    '/* import("./y.ts") */',
    "const z = import(name);",
  ].join("\n");
  assert.deepEqual(importsOf(source).sort(), [
    "../b.ts",
    "./a.ts",
    "./c.ts",
    "./e.ts",
    "./f.ts",
    "./g.ts",
    "./h.ts",
  ]);
});

test("checkImports() refuses the instance's side importing the supervisor's, even for a type", () => {
  const problems = checkImports(tree({
    "instance/handle.ts": 'import type { Engine } from "../supervisor/engine.ts";',
    "supervisor/engine.ts": "export class Engine {}",
  }));
  assert.deepEqual(problems, [
    "instance/handle.ts -> supervisor/engine.ts: the instance's side imports the supervisor's",
  ]);
});

test("checkImports() refuses platform/ importing anything above it but errors.ts", () => {
  const problems = checkImports(tree({
    "platform/runtime.ts": 'import { x } from "../handover/exec.ts";\nimport "../errors.ts";',
    "handover/exec.ts": "export const x = 1;",
    "errors.ts": "",
  }));
  assert.deepEqual(problems, [
    "platform/runtime.ts -> handover/exec.ts: platform/ imports something above it",
  ]);
});

test("checkImports() lets systemd/ use platform/ and the contracts, nothing else", () => {
  const problems = checkImports(tree({
    "systemd/notifier.ts": [
      'import type { SupervisorEnd } from "../events.ts";',
      'import { runtime } from "../platform/runtime.ts";',
      'import { x } from "../supervisor/engine.ts";',
    ].join("\n"),
    "events.ts": "",
    "platform/runtime.ts": "",
    "supervisor/engine.ts": "export const x = 1;",
  }));
  assert.deepEqual(problems, [
    "systemd/notifier.ts -> supervisor/engine.ts: systemd/ imports something but platform/ and the contracts",
  ]);
});

test("checkImports() finds a cycle through a type import and a dynamic import", () => {
  const problems = checkImports(tree({
    "events.ts": 'import type { R } from "./supervisor/record.ts";',
    "supervisor/record.ts": 'const m = import("./recovery.ts");',
    "supervisor/recovery.ts": 'import type { E } from "../events.ts";',
  }));
  assert.deepEqual(problems, [
    "cycle: events.ts -> supervisor/record.ts -> supervisor/recovery.ts -> events.ts",
  ]);
});

test("checkImports() refuses Atomics outside the protocol modules", () => {
  const problems = checkImports(tree({
    "sam.ts": "// Atomics.store in a comment is fine\nAtomics.store(block, 0, 1);",
    "shared_memory/protocol.ts": "Atomics.notify(block, 0);",
  }));
  assert.deepEqual(problems, ["sam.ts: uses Atomics outside the protocol modules"]);
});

test("sam's own modules keep every rule", () => {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const files = libraryFiles(root);
  assert.ok(files.has("mod.ts") && files.has("shared_memory/protocol.ts"));
  assert.ok(![...files.keys()].some((path) => path.startsWith("tests/")));
  assert.deepEqual(checkImports(files), []);
});
