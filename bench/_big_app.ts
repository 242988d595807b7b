// Generates the big application of crash_to_next_instance_big_app_ms: 400 modules of about
// 8 KB of TypeScript each (a table and a few dozen small functions), imported by one entry
// module before the bench's own instance program. Written to a temporary folder, not kept.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const MODULES = 400;
const FUNCTIONS = 40;
const TABLE = 300;

function moduleSource(i: number): string {
  const lines = [
    i > 0 ? `import { total_${i - 1} } from "./m${i - 1}.ts";` : "",
    `export const table_${i}: number[] = [${
      Array.from({ length: TABLE }, (_, k) => (k * 7919 + i) % 1000).join(", ")
    }];`,
  ];
  for (let f = 0; f < FUNCTIONS; f++) {
    lines.push(
      `export function f_${i}_${f}(x: number): number {`,
      `  const y = x * ${f + 1} + table_${i}[${f % TABLE}];`,
      `  return y > 1000 ? y % 997 : y + ${i};`,
      `}`,
    );
  }
  lines.push(
    `export const total_${i}: number = ${i > 0 ? `total_${i - 1} + ` : ""}f_${i}_0(${i});`,
  );
  return lines.join("\n") + "\n";
}

/** Writes the big app; returns the URL of its entry module and its size in bytes. */
export function writeBigApp(instanceApp: URL): { entry: URL; bytes: number; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "sam-big-app-"));
  let bytes = 0;
  for (let i = 0; i < MODULES; i++) {
    const source = moduleSource(i);
    bytes += source.length;
    writeFileSync(join(dir, `m${i}.ts`), source);
  }
  const entry = [
    ...Array.from({ length: MODULES }, (_, i) => `import "./m${i}.ts";`),
    `import ${JSON.stringify(instanceApp.href)};`,
  ].join("\n");
  writeFileSync(join(dir, "entry.ts"), entry + "\n");
  return { entry: new URL(`file://${join(dir, "entry.ts")}`), bytes, dir };
}
