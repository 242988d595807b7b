// `deno task bench`: runs sam_bench.ts on Deno, Bun and Node, then the real libsam
// (libsam_bench.c, when cc and libsam-dev are there), and prints one JSON line for each plus a
// last line of ratios to libsam (above 1: slower than libsam). Progress and problems go to
// stderr; the exit code is 1 when a runtime's benchmark failed (not when one is missing).
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BUN = ["npx", "-y", "bun@1.4.5"];
const NODE = ["npx", "-y", "node@24"];
const RUNTIME_TIMEOUT_MS = 50_000;
const LIBSAM_TIMEOUT_MS = 20_000;
const SERVICE_TIMEOUT_MS = 120_000;
/** The anchor: corosync's own libsam timed the same way, in ../shared/anchors beside the repository. */
const LIBSAM_SOURCE = Deno.env.get("LIBSAM_BENCH_C") ??
  join(ROOT, "..", "shared", "anchors", "libsam_bench.c");

type Figures = Record<string, number | string>;

let failed = false;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a command in the repository; null when the program does not exist. */
async function run(cmd: string[], timeoutMs: number): Promise<Outcome | null> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const out = await new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
      timedOut,
    };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** The last JSON object line of `stdout`, if any. */
function lastJson(stdout: string): Figures | null {
  const lines = stdout.split("\n").filter((l) => l.trimStart().startsWith("{"));
  if (lines.length === 0) return null;
  try {
    return JSON.parse(lines[lines.length - 1]);
  } catch {
    return null;
  }
}

/** stderr without the traces of the instances sam_bench.ts crashes on purpose. */
function withoutDeliberateCrashes(stderr: string): string {
  let skipping = false;
  const kept: string[] = [];
  for (const line of stderr.split("\n")) {
    if (line.includes("sam bench: deliberate crash")) skipping = true;
    else if (!(skipping && /^\s+at /.test(line))) {
      skipping = false;
      kept.push(line);
    }
  }
  return kept.join("\n").trim();
}

async function benchRuntime(
  name: string,
  cmd: string[],
  service: string[],
): Promise<Figures | null> {
  console.error(`bench: ${name}: ${cmd.join(" ")}`);
  const out = await run(cmd, RUNTIME_TIMEOUT_MS);
  if (out === null) {
    console.error(`bench: ${name}: skipped, ${cmd[0]} not found`);
    return null;
  }
  const figures = lastJson(out.stdout);
  const ok = out.code === 0 && !out.timedOut && figures !== null;
  const stderr = ok ? withoutDeliberateCrashes(out.stderr) : out.stderr.trim();
  if (stderr !== "") console.error(stderr);
  if (!ok) {
    const why = out.timedOut ? `timed out after ${RUNTIME_TIMEOUT_MS} ms` : `exit code ${out.code}`;
    console.error(
      `bench: ${name}: failed (${why})${out.stdout.trim() ? `; stdout:\n${out.stdout}` : ""}`,
    );
    failed = true;
    return null;
  }
  Object.assign(figures!, await benchService(name, service));
  console.log(JSON.stringify(figures));
  return figures;
}

/** service_bench.ts's fields for the runtime; none (with the reason on stderr) when it fails. */
async function benchService(name: string, cmd: string[]): Promise<Figures> {
  console.error(`bench: ${name}: ${cmd.join(" ")}`);
  const out = await run(cmd, SERVICE_TIMEOUT_MS);
  const figures = out === null ? null : lastJson(out.stdout);
  if (out === null || out.code !== 0 || out.timedOut || figures === null) {
    console.error(`bench: ${name}: the service bench failed: ${out?.stderr.trim() ?? "not run"}`);
    failed = true;
    return {};
  }
  return figures;
}

/** Builds and runs libsam_bench.c; null (with the reason on stderr) when it cannot. */
async function benchLibsam(): Promise<Figures | null> {
  const skip = (why: string) => (console.error(`bench: libsam: skipped, ${why}`), null);
  try {
    await Deno.stat(LIBSAM_SOURCE);
  } catch {
    return skip(`no ${LIBSAM_SOURCE}`);
  }
  const dir = await Deno.makeTempDir({ prefix: "sam-bench-" });
  try {
    const binary = join(dir, "libsam_bench");
    const build = await run(["cc", "-O2", LIBSAM_SOURCE, "-lsam", "-o", binary], LIBSAM_TIMEOUT_MS);
    if (build === null) return skip("no C compiler (cc)");
    if (build.code !== 0) {
      return skip(`cc failed (is libsam-dev installed?): ${build.stderr.trim().split("\n")[0]}`);
    }
    console.error("bench: libsam: " + binary);
    const out = await run([binary], LIBSAM_TIMEOUT_MS);
    const figures = out === null ? null : lastJson(out.stdout);
    if (out === null || out.code !== 0 || figures === null) {
      return skip(`its run failed: ${out?.stderr.trim() || `exit code ${out?.code}`}`);
    }
    const line = { runtime: "libsam", ...figures };
    console.log(JSON.stringify(line));
    return line;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** ours / libsam for every timing both have: `store_64_ns` gives `store_64_vs_libsam`. */
function ratios(ours: Figures, libsam: Figures): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, anchor] of Object.entries(libsam)) {
    const mine = ours[key];
    if (!/_(ns|ms)$/.test(key) || key === "time_interval_ms") continue;
    if (typeof anchor !== "number" || typeof mine !== "number" || anchor <= 0) continue;
    out[key.replace(/_(ns|ms)$/, "_vs_libsam")] = Number((mine / anchor).toPrecision(3));
  }
  return out;
}

const started = performance.now();
const results: Record<string, Figures | null> = {
  deno: await benchRuntime("deno", [Deno.execPath(), "run", "-A", "bench/sam_bench.ts"], [
    Deno.execPath(),
    "run",
    "-A",
    "bench/service_bench.ts",
  ]),
  bun: await benchRuntime("bun", [...BUN, "bench/sam_bench.ts"], [
    ...BUN,
    "bench/service_bench.ts",
  ]),
  node: await benchRuntime("node", [...NODE, "bench/sam_bench.ts"], [
    ...NODE,
    "bench/service_bench.ts",
  ]),
};
const libsam = await benchLibsam();
if (libsam !== null) {
  const all: Record<string, Record<string, number>> = {};
  for (const [name, figures] of Object.entries(results)) {
    if (figures !== null) all[name] = ratios(figures, libsam);
  }
  console.log(JSON.stringify({ ratios: all }));
}
console.error(`bench: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
if (failed) Deno.exitCode = 1;
