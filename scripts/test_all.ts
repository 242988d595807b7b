// Runs every test on Deno and then on Bun, and ends with the one line CI reads:
// "N passed, N failed", summed over both runtimes.
import { spawnSync } from "node:child_process";
import process from "node:process";

const BUN = "bun@1.4.5";

interface Counts {
  passed: number;
  failed: number;
}

function run(
  label: string,
  command: string,
  args: string[],
  parse: (out: string) => Counts | null,
): Counts {
  console.log(`\n=== ${label}: ${command} ${args.join(" ")}`);
  const result = spawnSync(command, args, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 64 << 20,
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  process.stdout.write(output);
  const counts = parse(output);
  if (counts === null) {
    console.log(`${label}: no test summary found (exit ${result.status}); counted as 1 failed`);
    return { passed: 0, failed: 1 };
  }
  if (result.status !== 0 && counts.failed === 0) counts.failed = 1;
  return counts;
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

// deno test's summary: "ok | 12 passed | 0 failed" (or FAILED | ...).
function parseDeno(out: string): Counts | null {
  const m = out.replace(ANSI, "").match(
    /\|\s*(\d+) passed(?: \(\d+ steps?\))?\s*\|\s*(\d+) failed/,
  );
  return m ? { passed: +m[1], failed: +m[2] } : null;
}

// bun test's summary: " 12 pass" and " 0 fail" on their own lines.
function parseBun(out: string): Counts | null {
  const clean = out.replace(ANSI, "");
  const pass = clean.match(/^\s*(\d+) pass\s*$/m);
  const fail = clean.match(/^\s*(\d+) fail\s*$/m);
  return pass ? { passed: +pass[1], failed: fail ? +fail[1] : 0 } : null;
}

const deno = run("deno", process.execPath, ["test", "--allow-all", "tests/"], parseDeno);
const bun = run("bun", "npx", ["-y", BUN, "test", "--timeout", "120000", "tests/"], parseBun);
console.log(
  `\ndeno: ${deno.passed} passed, ${deno.failed} failed; bun: ${bun.passed} passed, ${bun.failed} failed`,
);
console.log(`${deno.passed + bun.passed} passed, ${deno.failed + bun.failed} failed`);
process.exit(deno.failed + bun.failed === 0 ? 0 : 1);
