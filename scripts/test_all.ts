// Runs every test (or the files it is given) on Deno, then on Bun, then on Node.js, streaming
// each runner's output as it comes, and ends with the one line CI reads: "N passed, N failed",
// summed over the three.
// Bun and Node come from npm (npx), so a machine with only Node and npm runs all of it.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import process from "node:process";
import type { Readable } from "node:stream";

const BUN = "bun@1.4.5";
const NODE = "node@24";
/** Longest one test may take, for the runners that take it on the command line. */
const TEST_TIMEOUT_MS = 150_000;

interface Counts {
  passed: number;
  failed: number;
  /** The failed tests' lines as the runner printed them, repeated at the end for CI's tail. */
  failures?: string[];
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, "g");

// No colour codes into a pipe: every runner honours NO_COLOR, and a FORCE_COLOR inherited
// from the caller would win over it on some, so it goes.
const env: Record<string, string> = { ...process.env as Record<string, string>, NO_COLOR: "1" };
delete env.FORCE_COLOR;
// The installed-package tests build sam as `deno publish` would upload it, with this Deno.
if ("Deno" in globalThis) env.SAM_DENO = process.execPath;

/** Hands each whole line of `stream` to `write` as it arrives, and the rest at its end. */
function forwardLines(stream: Readable, write: (line: string) => void): void {
  let pending = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop()!;
    for (const line of lines) write(line + "\n");
  });
  stream.on("end", () => {
    if (pending !== "") write(pending + "\n");
    pending = "";
  });
}

/** Runs one runner, printing its output as it comes; resolves with what its summary says. */
function run(
  label: string,
  command: string,
  args: string[],
  parse: (out: string) => Counts | null,
): Promise<Counts> {
  console.log(`\n=== ${label}: ${command} ${args.join(" ")}`);
  return new Promise((resolve) => {
    let output = "";
    const keep = (line: string) => {
      output += line;
      process.stdout.write(line);
    };
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    forwardLines(child.stdout!, keep);
    forwardLines(child.stderr!, keep);
    let started = true;
    child.on("error", (error) => {
      started = false;
      console.log(`${label}: could not run ${command}: ${error.message}`);
    });
    child.on("close", (status, signal) => {
      const counts = started ? parse(output.replace(ANSI, "")) : null;
      if (counts === null) {
        console.log(
          `${label}: no test summary found (exit ${status ?? signal}); counted as 1 failed`,
        );
        return resolve({ passed: 0, failed: 1 });
      }
      if (status !== 0 && counts.failed === 0) counts.failed = 1;
      counts.failures = failedLines(output.replace(ANSI, ""));
      resolve(counts);
    });
  });
}

// deno test's summary: "ok | 12 passed | 0 failed" (or FAILED | ...).
function parseDeno(out: string): Counts | null {
  const m = out.match(/\|\s*(\d+) passed(?: \(\d+ steps?\))?\s*\|\s*(\d+) failed/);
  return m ? { passed: +m[1], failed: +m[2] } : null;
}

// bun test's summary: " 12 pass" and " 0 fail" on their own lines.
function parseBun(out: string): Counts | null {
  const pass = out.match(/^\s*(\d+) pass\s*$/m);
  const fail = out.match(/^\s*(\d+) fail\s*$/m);
  return pass ? { passed: +pass[1], failed: fail ? +fail[1] : 0 } : null;
}

// node --test's spec summary: "ℹ pass 12", "ℹ fail 0", "ℹ cancelled 0" on their own lines
// (TAP's "# pass 12" too); a test cancelled (its file's process ended first) did not pass.
function parseNode(out: string): Counts | null {
  const count = (what: string) => {
    const all = [...out.matchAll(new RegExp(`^(?:ℹ|#) ${what} (\\d+)\\s*$`, "gm"))];
    return all.length ? Number(all[all.length - 1][1]) : null;
  };
  const pass = count("pass");
  if (pass === null) return null;
  return { passed: pass, failed: (count("fail") ?? 0) + (count("cancelled") ?? 0) };
}

// A failed test's own line in each runner's report: Deno's "name ... FAILED (3ms)", Bun's
// "(fail) name [3.00ms]", Node's spec "✖ name (3ms)" (Node repeats them under "failing tests").
function failedLines(out: string): string[] {
  const lines = out.split("\n").map((l) => l.trim()).filter((l) =>
    / \.\.\. FAILED\b/.test(l) || l.startsWith("(fail) ") || /^✖ .*\(\d/.test(l)
  );
  return [...new Set(lines)];
}

// Test files named on the command line (`deno task test tests/unit/region_test.ts`), else all
// of them (tests/*_test.ts are scenarios, tests/unit/ the modules' own): Deno and Bun find them
// in tests/ themselves, Node is given each file.
const named = process.argv.slice(2);
const testFiles = named.length ? named : readdirSync("tests", { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith("_test.ts")).sort().map((f) => `tests/${f}`);
const denoBunFiles = named.length ? named : ["tests/"];

const results: [string, Counts][] = [
  [
    "deno",
    await run("deno", process.execPath, ["test", "--allow-all", ...denoBunFiles], parseDeno),
  ],
  [
    "bun",
    await run(
      "bun",
      "npx",
      ["-y", BUN, "test", "--timeout", `${TEST_TIMEOUT_MS}`, ...denoBunFiles],
      parseBun,
    ),
  ],
  [
    "node",
    await run("node", "npx", [
      "-y",
      NODE,
      "--test",
      "--test-reporter=spec",
      `--test-timeout=${TEST_TIMEOUT_MS}`,
      ...testFiles,
    ], parseNode),
  ],
];
for (const [name, c] of results) {
  for (const line of c.failures ?? []) console.log(`${name} failed: ${line}`);
}
const total = results.reduce((a, [, c]) => ({
  passed: a.passed + c.passed,
  failed: a.failed + c.failed,
}), { passed: 0, failed: 0 });
console.log(
  "\n" + results.map(([name, c]) => `${name}: ${c.passed} passed, ${c.failed} failed`).join("; "),
);
console.log(`${total.passed} passed, ${total.failed} failed`);
process.exit(total.failed === 0 ? 0 : 1);
