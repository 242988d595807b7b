// Handing supervision over to a new process, for runtimes whose Worker.terminate() can leave a
// thread spinning: only the end of the process stops that thread. The state travels in a file
// named by an environment variable, written before the new process starts.
import { spawn } from "node:child_process";
import { readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runtime } from "./_runtime.ts";

const ENV = "SAM_RESUME_FILE";

export interface ResumeState {
  nextId: number;
  warnSignal: number;
  data: Uint8Array;
}

/**
 * Starts this program again with `state`; resolves once the new process runs, or false when
 * it could not be started (the command line unknown, or spawning failed).
 */
export function respawnProcess(state: ResumeState): Promise<boolean> {
  const argv = runtime.commandLine();
  if (argv === null || argv.length === 0) return Promise.resolve(false);
  const file = join(tmpdir(), `sam-resume-${process.pid}-${Date.now()}`);
  const head = new TextEncoder().encode(
    JSON.stringify({ nextId: state.nextId, warnSignal: state.warnSignal }) + "\n",
  );
  const bytes = new Uint8Array(head.length + state.data.length);
  bytes.set(head);
  bytes.set(state.data, head.length);
  const forget = () => rmSync(file, { force: true });
  let child: ReturnType<typeof spawn>;
  try {
    writeFileSync(file, bytes, { mode: 0o600 });
    child = spawn(argv[0], argv.slice(1), {
      stdio: "inherit",
      env: { ...process.env, [ENV]: file },
    });
  } catch {
    // No permission to write, read the environment or run (Deno): stay in this process.
    forget();
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    child.once("spawn", () => {
      child.unref();
      resolve(true);
    });
    child.once("error", () => {
      forget();
      resolve(false);
    });
  });
}

/** The state handed over by the previous process, read once and removed; null if none. */
export function readResumeState(): ResumeState | null {
  try {
    // Without env permission on Deno this throws: then there is nothing to resume.
    const file = process.env[ENV];
    if (!file) return null;
    delete process.env[ENV];
    const bytes = readFileSync(file);
    unlinkSync(file);
    const newline = bytes.indexOf(10);
    const head = JSON.parse(new TextDecoder().decode(bytes.subarray(0, newline)));
    if (
      !Number.isSafeInteger(head.nextId) || head.nextId < 1 || !Number.isInteger(head.warnSignal)
    ) return null;
    return {
      nextId: head.nextId,
      warnSignal: head.warnSignal,
      data: new Uint8Array(bytes.subarray(newline + 1)),
    };
  } catch {
    return null;
  }
}
