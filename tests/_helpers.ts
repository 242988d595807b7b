// Runs a fixture app from tests/testdata as its own process on the runtime running the tests.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { runtime } from "../_runtime.ts";
import { SIGNALS } from "../_signals.ts";

export interface AppResult {
  code: number | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

/** Path of a fixture in tests/testdata. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./testdata/${name}`, import.meta.url));
}

/**
 * The environment a fixture runs in: this process's, plus `extra`, without colours. FORCE_COLOR
 * goes: `node --test` sets it for the test files when its own output is a terminal, and it
 * would win over NO_COLOR in a fixture whose stderr a test compares whole.
 */
export function fixtureEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { ...process.env as Record<string, string>, ...extra };
  delete env.FORCE_COLOR;
  env.NO_COLOR = "1";
  return env;
}

/** The command line that runs the fixture `name` on the runtime running the tests. */
export function command(name: string): string[] {
  return [process.execPath, ...runtime.scriptArgs(fixture(name))];
}

/**
 * Runs `name` and resolves when its output is closed (so a process it hands over to is
 * waited for too). Killed after `timeoutMs`, which fails the test through its exit code.
 */
export function runApp(
  name: string,
  env: Record<string, string> = {},
  timeoutMs = 60_000,
  onLine?: (line: string, child: ChildProcess) => void,
): Promise<AppResult> {
  const [executable, ...args] = command(name);
  const child = spawn(executable, args, {
    env: fixtureEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => {
    const before = stdout.split("\n").length - 1;
    stdout += d;
    const lines = stdout.split("\n");
    for (const line of lines.slice(before, -1)) onLine?.(line, child);
  });
  child.stderr!.on("data", (d) => stderr += d);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  return new Promise((resolve) => {
    let code: number | null = null;
    // Reported as a shell does: 128 + the signal's number for a process a signal ended.
    child.on("exit", (c, signal) => code = c ?? (signal ? 128 + (SIGNALS[signal] ?? 0) : null));
    child.on("close", () => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, lines: stdout.split("\n").filter((l) => l !== "") });
    });
  });
}
