// The respawn hand-over: start this program again as a new process and end this one. The
// pid changes, so a service manager or container runtime that follows it sees the service
// end; kept as an explicit option where exec in place is not possible. The state travels in a
// file named by an environment variable, written before the new process starts.
import { spawn } from "node:child_process";
import { readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import {
  decodeHandOver,
  encodeHandOver,
  type HandOverState,
  type HandOverStrategy,
} from "./state.ts";
import { runtime } from "../platform/runtime.ts";

const ENV = "SAM_RESUME_FILE";

/** Starts the program again as a new process carrying the state. */
export const respawn: HandOverStrategy = {
  kind: "respawn",
  handOver(state: HandOverState): Promise<string | null> {
    const argv = runtime.commandLine();
    if (argv === null || argv.length === 0) {
      return Promise.resolve("the command line is unknown");
    }
    const file = join(tmpdir(), `sam-resume-${process.pid}-${Date.now()}`);
    const forget = () => rmSync(file, { force: true });
    let child: ReturnType<typeof spawn>;
    try {
      writeFileSync(file, encodeHandOver(state), { mode: 0o600 });
      child = spawn(argv[0], argv.slice(1), {
        stdio: "inherit",
        env: { ...process.env, [ENV]: file },
      });
    } catch (error) {
      // No permission to write, read the environment or run (Deno).
      forget();
      return Promise.resolve(String(error));
    }
    return new Promise((resolve) => {
      child.once("spawn", () => {
        child.unref();
        resolve(null);
      });
      child.once("error", (error) => {
        forget();
        resolve(String(error));
      });
    });
  },
};

/** The state handed over by a respawning process, read once and removed; null if none. */
export function takeRespawnedState(): HandOverState | null {
  try {
    // Without env permission on Deno this throws: then there is nothing to resume.
    const file = process.env[ENV];
    if (!file) return null;
    delete process.env[ENV];
    const bytes = readFileSync(file);
    unlinkSync(file);
    return decodeHandOver(new Uint8Array(bytes));
  } catch {
    return null;
  }
}
