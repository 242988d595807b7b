// Asks what a program without a hand-over sees: prints {"can": canExecInPlace(), "taken":
// takeHandOver()} as one JSON line. With PROBE_MARKERS (a JSON list of marker values, where
// {pid} is this process's pid, {file} a descriptor of an open regular file, {memfd} one of a
// memfd that no hand-over wrote), it also sets each marker in turn through libc and reports
// what takeHandOver() gave, whether the marker was left in the environment, and whether the
// descriptor it named is still open (not closed as if it had been ours). With PROBE_E2BIG, it
// makes the environment too big for execve() and reports what execInPlace() threw and
// whether a memfd is left open.
import process from "node:process";
import { closeSync, openSync, readdirSync, readlinkSync, writeSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { canExecInPlace, execInPlace, takeHandOver } from "../../handover/exec.ts";
import { cString, openLibrary } from "../../platform/ffi.ts";

const first = { can: canExecInPlace(), taken: takeHandOver() };
const results: unknown[] = [];
/** An environment variable, or undefined where Deno has no --allow-env. */
const env = (name: string) => {
  try {
    return process.env[name];
  } catch {
    return undefined;
  }
};
const markers: string[] = JSON.parse(env("PROBE_MARKERS") ?? "[]");
if (markers.length > 0) {
  const libc = openLibrary(["libc.so.6"], {
    setenv: { parameters: ["buffer", "buffer", "i32"], result: "i32" },
    getenv: { parameters: ["buffer"], result: "pointer" },
    memfd_create: { parameters: ["buffer", "u32"], result: "i32" },
    write: { parameters: ["i32", "buffer", "u64"], result: "i64" },
    fcntl: { parameters: ["i32", "i32"], result: "i32" },
  }).symbols;
  const file = openSync(fileURLToPath(import.meta.url), "r");
  const memfd = libc.memfd_create(cString("not-a-hand-over"), 0) as number;
  const junk = new TextEncoder().encode("SAM-HOV1 but not really a hand-over");
  libc.write(memfd, junk, BigInt(junk.length));
  // F_GETFD through libc: Deno's node:fs knows only the descriptors it opened itself.
  const isOpen = (fd: number) => libc.fcntl(fd, 1) >= 0;
  for (const template of markers) {
    const value = template.replace("{pid}", String(process.pid)).replace("{file}", String(file))
      .replace("{memfd}", String(memfd));
    libc.setenv(cString("SAM_HANDOVER_FD"), cString(value), 1);
    const taken = takeHandOver();
    const named = Number(value.split(",")[0]);
    results.push({
      marker: template,
      taken,
      left: libc.getenv(cString("SAM_HANDOVER_FD")) !== null,
      stillOpen: Number.isInteger(named) && named >= 3 ? isOpen(named) : null,
    });
  }
  closeSync(file);
}
let failed: unknown = undefined;
if (env("PROBE_E2BIG")) {
  // One string above the kernel's 128 KiB limit for a single argument or variable.
  process.env.SAM_PROBE_HUGE = "x".repeat(200_000);
  try {
    execInPlace(new Uint8Array(10));
  } catch (error) {
    const memfds = readdirSync("/proc/self/fd").filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith("/memfd:");
      } catch {
        return false;
      }
    });
    failed = { name: (error as Error).name, message: (error as Error).message, memfds };
  }
}
writeSync(1, JSON.stringify({ ...first, results, failed }) + "\n");
