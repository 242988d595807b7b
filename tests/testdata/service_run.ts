// Runs service_app.ts under a request loop through one scenario and prints one JSON line: what
// the client saw, when each step came, the app's output and the supervisor's log. Started by
// tests/service_test.ts and bench/, on the runtime that runs it, in the network namespace it
// is started in (the test gives it one of its own where it can, with net.ipv4.tcp_migrate_req).
//
// SAM_SCENARIO: "crash" (a request makes instance 1 throw), "reload" (SIGHUP to new code, then
// SIGHUP to code with a syntax error), "reload-once" (SIGHUP, the same code). SAM_SERVER and
// SAM_REUSE as for service_app.ts; SAM_PORT. Times in `marks` and the client's `errorsAt` are
// ms from the start, and from "listening 1" (when the client starts).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runtimeName } from "../harness/runtime.ts";
import { command, fixture, startApp, within } from "../harness/helpers.ts";
import { get, requestLoop } from "../harness/service_client.ts";

const scenario = process.env.SAM_SCENARIO ?? "crash";
const server = process.env.SAM_SERVER ?? "node";
const port = Number(process.env.SAM_PORT);
/** How long the client runs before and after each step. */
const STEADY_MS = Number(process.env.SAM_STEADY_MS ?? 300);

const dir = mkdtempSync(join(tmpdir(), "sam-service-"));
const version = join(dir, "version.mjs");
writeFileSync(version, `export const version = "v1";\n`);
const name = "service_app.ts";
// Deno.serve's reusePort is an unstable API of Deno 2.9.
const argv = runtimeName === "deno" && server === "deno"
  ? [process.execPath, "run", "--allow-all", "--unstable-net", fixture(name)]
  : command(name);
const app = startApp(
  name,
  {
    SAM_PORT: String(port),
    SAM_SERVER: server,
    SAM_REUSE: process.env.SAM_REUSE ?? "0",
    SAM_VERSION_MODULE: version,
  },
  60_000,
  argv,
);

const t0 = performance.now();
const marks: Record<string, number> = {};
const mark = (what: string) => marks[what] = Math.round(performance.now() - t0);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const line = (prefix: string, what: string) =>
  within(app.line((l) => l.startsWith(prefix)), 20_000, what);
const hup = () => process.kill(app.child.pid!, "SIGHUP");

let failure: string | null = null;
try {
  await line("listening 1 ", "instance 1");
  mark("listening 1");
  const steps = (async () => {
    await pause(STEADY_MS);
    if (scenario === "crash") {
      mark("crash");
      get(port, "/crash").catch(() => {});
      await line("listening 2 ", "instance 2");
      mark("listening 2");
    } else {
      if (scenario === "reload") writeFileSync(version, `export const version = "v2";\n`);
      mark("reload");
      hup();
      const outcome = await within(
        app.line((l) => l === "reload took-over 2" || l.startsWith("reload failed 2")),
        20_000,
        "the reload",
      );
      mark(outcome.startsWith("reload failed") ? "failed" : "took over");
      if (scenario === "reload") {
        await pause(STEADY_MS);
        writeFileSync(version, `export const version = ;\n`);
        mark("broken reload");
        hup();
        await line("reload failed 3", "the failed reload");
        mark("failed");
      }
    }
    await pause(STEADY_MS);
  })();
  const loop = await requestLoop(port, steps.catch((e) => failure = String(e)));
  mark("end");
  process.kill(app.child.pid!, "SIGTERM");
  const r = await within(app.done, 20_000, "the end");
  console.log(
    JSON.stringify({
      failure,
      loop,
      marks,
      code: r.code,
      lines: r.lines,
      log: r.log,
      stderr: r.stderr,
    }),
  );
} catch (error) {
  // What the service said, when it has ended already: why a step could not go on.
  const r = await Promise.race([app.done, pause(1000).then(() => null)]);
  const { code, lines, log, stderr } = r ?? {};
  console.log(JSON.stringify({ failure: String(error), marks, code, lines, log, stderr }));
} finally {
  app.child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
}
