// Runs a fixture app from tests/testdata as its own process on the runtime running the tests.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { scriptArgs } from "./runtime.ts";
import { SIGNALS } from "../../shared_memory/signals.ts";

export interface AppResult {
  code: number | null;
  stdout: string;
  /** stderr without the supervisor's log lines. */
  stderr: string;
  lines: string[];
  /** The supervisor's log lines (`sam[<pid>]: ...`), without that prefix. */
  log: string[];
}

const LOG_LINE = /^sam\[\d+\]: (.*)$/;

/** Path of a fixture in tests/testdata. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../testdata/${name}`, import.meta.url));
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
  return [process.execPath, ...scriptArgs(fixture(name))];
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
  onSpawn?: (child: ChildProcess) => void,
  argv: string[] = command(name),
  cwd?: string,
): Promise<AppResult> {
  const [executable, ...args] = argv;
  const child = spawn(executable, args, {
    cwd,
    env: fixtureEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  onSpawn?.(child);
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
      const all = stderr.split("\n");
      const log = all.flatMap((l) => LOG_LINE.exec(l)?.slice(1) ?? []);
      const rest = all.filter((l) => !LOG_LINE.test(l)).join("\n");
      const lines = stdout.split("\n").filter((l) => l !== "");
      resolve({ code, stdout, stderr: rest, lines, log });
    });
  });
}

/** A fixture app being run, whose lines can be waited for. */
export interface RunningApp {
  child: ChildProcess;
  /** Resolves with the first line (from now on or already seen) that `want` accepts. */
  line(want: (line: string) => boolean): Promise<string>;
  /** Resolves when the app's output closed, as {@linkcode runApp} does. */
  done: Promise<AppResult>;
}

/** Runs `name` like {@linkcode runApp}, for tests that talk to it while it runs. */
export function startApp(
  name: string,
  env: Record<string, string> = {},
  timeoutMs = 60_000,
  argv: string[] = command(name),
  cwd?: string,
): RunningApp {
  const seen: string[] = [];
  const waiting = new Set<{ want: (line: string) => boolean; resolve: (l: string) => void }>();
  let child!: ChildProcess;
  const done = runApp(
    name,
    env,
    timeoutMs,
    (line, c) => {
      child = c;
      seen.push(line);
      for (const w of waiting) {
        if (w.want(line)) {
          waiting.delete(w);
          w.resolve(line);
        }
      }
    },
    (c) => child = c,
    argv,
    cwd,
  );
  return {
    get child() {
      return child;
    },
    line(want) {
      const found = seen.find(want);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve) => waiting.add({ want, resolve }));
    },
    done,
  };
}

/**
 * Rejects with `what` when `promise` has not settled within `ms`: a bound on a test that
 * would otherwise hang, never a measurement.
 */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
