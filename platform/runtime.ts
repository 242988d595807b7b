// Everything that differs between Deno, Bun and Node.js, behind one small interface. All three
// implement node:worker_threads with real exit codes and idle exit, so instances run there.
import process from "node:process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { readProcThroughLibc, threadIdThroughLibc } from "./libc.ts";
import { warmUpConsole, writeOutputDirectly } from "./worker_output.ts";
import * as nodeModule from "node:module";
import { isMainThread } from "node:worker_threads";

/** One look at a thread of this process. */
export interface ThreadSample {
  /** CPU time it has used, in ms (10 ms ticks). */
  cpuMs: number;
  /** Whether it was running (state R) at that look. */
  running: boolean;
}

/** A writer of the runtime's own that bypasses process.stdout and process.stderr (Deno's). */
export interface OwnWriter {
  writeSync(p: Uint8Array): number;
  write(p: Uint8Array): Promise<number>;
}

/** A datagram socket bound to a Unix socket path of its own, sending to socket paths. */
export interface UnixDatagramSocket {
  /** Sends `data` to the socket at `path`. */
  send(data: Uint8Array, path: string): Promise<number>;
  /** Closes it and removes its own path. */
  close(): void;
}

/** What sam needs from the runtime it runs on. */
export interface Runtime {
  /**
   * Whether `Worker.terminate()` interrupts JavaScript that is running (a long `set()` of a
   * store, a loop). Measured: Bun and Node do; Deno 2.9.6 never does, so there only the fence
   * cuts a store off, and a busy loop spins on.
   */
  readonly terminateInterruptsCode: boolean;
  /** Whether the runtime itself prints an instance's uncaught error to stderr. */
  readonly printsWorkerErrors: boolean;
  /** Whether process.hrtime reads CLOCK_MONOTONIC itself (Node's; Deno's and Bun's count from the process's start). */
  readonly hrtimeIsMonotonic: boolean;
  /** The runtime's own stdout and stderr writers beside process.stdout and process.stderr (Deno's), to hold too. */
  ownOutput(): OwnWriter[];
  /** Path of the runtime's executable, to start this program again. */
  execPath(): string;
  /**
   * The environment as the program sees it now (what it set or removed counts), or null where
   * the runtime does not let it be read (Deno without --allow-env; the program cannot have
   * changed it there either).
   */
  environment(): Record<string, string | undefined> | null;
  /**
   * The value of each of the environment variables `names` that is set and may be read here,
   * never prompting: Deno asks for --allow-env per variable, and one it may not read counts
   * as unset.
   */
  readEnv(names: readonly string[]): Record<string, string | undefined>;
  /**
   * Why the runtime has no datagram socket of its own on Unix socket paths here, or null when
   * it has: Deno's unstable Deno.listenDatagram, with --unstable-net, --allow-net and
   * --allow-write (it binds the socket it sends from to a path). Bun and Node have none.
   */
  unixDatagramUnavailable(): string | null;
  /**
   * That socket, bound to `path`.
   *
   * @throws When {@linkcode Runtime.unixDatagramUnavailable} says why not, or binding fails.
   */
  openUnixDatagram(path: string): UnixDatagramSocket;
  /** URL of the program's main module, if there is one. */
  mainModule(): string | undefined;
  /**
   * What a Worker is started with to run `shim`, the URL of worker_shim next to the
   * library's code: `shim` itself from a checkout or an npm install; a `data:` module that
   * imports it where the library was loaded from a registry's https URLs (`jsr:` on Deno,
   * whose Workers start only from `file:` or `data:`); the shim inside the bundle of a
   * compiled program (`bun build --compile`), which moved the library's code but not the
   * shim's URL.
   */
  workerEntry(shim: URL): URL | string;
  /** Ends the process with `code`. */
  exit(code: number): never;
  /**
   * Gives an instance the globals a Deno or Bun program expects (`self`, `self.close()`), and
   * has the ways of exiting on purpose call `beforeExit(code)` where the process's `exit`
   * event (which the shim also listens to) would come late or not at all.
   */
  prepareInstanceGlobals(beforeExit: (code: number) => void): void;
  /**
   * Runs the console once with its output going nowhere, so that an instance's first line
   * does not pay for setting it up.
   */
  warmUpOutput(): void;
  /** Linux thread id of the calling thread, or 0 where /proc cannot tell. */
  threadId(): number;
  /**
   * One look at thread `tid` of this process: "gone" once it ended, "unknown" where /proc
   * cannot be read (Deno without --allow-all or --allow-ffi).
   */
  threadSample(tid: number): ThreadSample | "gone" | "unknown";
  /** The process's full command line (argv[0] first), to start it again; null if unknown. */
  commandLine(): string[] | null;
  /** Listens for a real process signal on the main thread. */
  addProcessSignalListener(name: string, fn: () => void): void;
  /** Stops listening for a real process signal. */
  removeProcessSignalListener(name: string, fn: () => void): void;
}

interface DenoDatagramConn {
  send(data: Uint8Array, addr: { transport: "unixpacket"; path: string }): Promise<number>;
  close(): void;
}

interface DenoLike {
  mainModule: string;
  exit(code?: number): never;
  execPath(): string;
  permissions: { querySync(d: { name: string; variable?: string }): { state: string } };
  listenDatagram?(options: { transport: "unixpacket"; path: string }): DenoDatagramConn;
  removeSync(path: string): void;
  env: { toObject(): Record<string, string> };
  stdout: OwnWriter;
  stderr: OwnWriter;
}
interface BunLike {
  main: string;
}

const g = globalThis as { Deno?: DenoLike; Bun?: BunLike; self?: unknown; close?: unknown };

function hookProcessExit(beforeExit: (code: number) => void): void {
  const exit = process.exit.bind(process);
  process.exit = ((code?: number | string | null) => {
    beforeExit(Number(code ?? process.exitCode ?? 0) | 0);
    return exit(code as number);
  }) as typeof process.exit;
}

/**
 * URL of sam's own module `name` (no extension) beside `base`, the `import.meta.url` of a sam
 * module. JSR's npm-compatible package holds every module transpiled to `.js` and rewrites only
 * import and export specifiers, so a URL written as a string must follow the importing
 * module's own extension.
 */
export function ownModule(name: string, base: string): URL {
  const extension = new URL(base).pathname.endsWith(".js") ? ".js" : ".ts";
  return new URL(`./${name}${extension}`, base);
}

/** A Worker entry for `module`: a `data:` module importing it when it is not a file. */
function fileOrDataEntry(module: URL): URL | string {
  if (module.protocol === "file:") return module;
  return new URL(`data:text/javascript,import ${encodeURIComponent(JSON.stringify(module.href))};`);
}

const common = {
  workerEntry: fileOrDataEntry,
  hrtimeIsMonotonic: false,
  ownOutput: (): OwnWriter[] => [],
  execPath: () => process.execPath,
  environment: (): Record<string, string | undefined> | null => process.env,
  readEnv(names: readonly string[]): Record<string, string | undefined> {
    const out: Record<string, string | undefined> = {};
    for (const name of names) out[name] = process.env[name];
    return out;
  },
  unixDatagramUnavailable: (): string | null => "Deno only",
  openUnixDatagram(path: string): UnixDatagramSocket {
    throw new Error(`no datagram socket of the runtime's own for ${path}`);
  },
  exit(code: number): never {
    process.exit(code);
  },
  threadId(): number {
    try {
      const link = readlinkSync("/proc/thread-self");
      const tid = parseInt(link.slice(link.lastIndexOf("/") + 1), 10);
      return Number.isInteger(tid) && tid > 0 ? tid : 0;
    } catch {
      return threadIdThroughLibc();
    }
  },
  threadSample(tid: number): ThreadSample | "gone" | "unknown" {
    const path = `/proc/self/task/${tid}/stat`;
    let text: string | "gone" | null;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      text = (error as { code?: string }).code === "ENOENT" ? "gone" : readProcThroughLibc(path);
    }
    if (text === null) return "unknown";
    if (text === "gone") return "gone";
    // Fields after the command name: state is 0, utime 11, stime 12, in clock ticks of 10 ms.
    const fields = text.split(") ")[1].split(" ");
    return { cpuMs: (Number(fields[11]) + Number(fields[12])) * 10, running: fields[0] === "R" };
  },
  commandLine(): string[] | null {
    try {
      const raw = readFileSync("/proc/self/cmdline", "utf8");
      return raw.split("\0").filter((s, i, all) => i < all.length - 1 || s !== "");
    } catch {
      return null;
    }
  },
  addProcessSignalListener(name: string, fn: () => void): void {
    process.on(name as "SIGTERM", fn);
  },
  removeProcessSignalListener(name: string, fn: () => void): void {
    process.off(name as "SIGTERM", fn);
  },
};

function denoRuntime(deno: DenoLike): Runtime {
  return {
    ...common,
    terminateInterruptsCode: false,
    printsWorkerErrors: true,
    ownOutput: () => [deno.stdout, deno.stderr],
    execPath: () => deno.execPath(),
    environment: () =>
      deno.permissions.querySync({ name: "env" }).state === "granted" ? deno.env.toObject() : null,
    readEnv(names) {
      const out: Record<string, string | undefined> = {};
      for (const variable of names) {
        try {
          if (deno.permissions.querySync({ name: "env", variable }).state !== "granted") continue;
          out[variable] = process.env[variable];
        } catch {
          // Not readable: as if unset.
        }
      }
      return out;
    },
    unixDatagramUnavailable() {
      if (typeof deno.listenDatagram !== "function") return "needs --unstable-net";
      for (const name of ["write", "net"]) {
        if (deno.permissions.querySync({ name }).state !== "granted") {
          return `needs --allow-${name}`;
        }
      }
      return null;
    },
    openUnixDatagram(path) {
      const conn = deno.listenDatagram!({ transport: "unixpacket", path });
      return {
        send: (data, to) => conn.send(data, { transport: "unixpacket", path: to }),
        close() {
          conn.close();
          try {
            deno.removeSync(path);
          } catch {
            // Gone already.
          }
        },
      };
    },
    mainModule: () => deno.mainModule,
    prepareInstanceGlobals(beforeExit) {
      hookProcessExit(beforeExit);
      const exit = deno.exit;
      deno.exit = (code = 0) => {
        beforeExit(code);
        return exit(code);
      };
      provideSelfClose();
    },
    warmUpOutput() {
      // Deno's console prints through the runtime, not process.stdout: nowhere to point it.
    },
  };
}

/**
 * Gives an instance `self` and `self.close()` (which ends it with code 0), as in a Worker's
 * global scope: Deno and Node run node:worker_threads Workers without `self`, Bun's has no
 * `close()`, and programs written for a Worker's global scope use both.
 */
function provideSelfClose(): void {
  if (g.self === undefined) g.self = globalThis;
  const self = g.self as { close?: unknown };
  if (typeof self.close !== "function") self.close = () => process.exit(0);
}

/** A compiled Bun program's main module: /$bunfs/root/<name>, on Windows B:\~BUN\root\<name>. */
const BUN_STANDALONE = /^(\/\$bunfs\/|[A-Za-z]:[\\/]~BUN[\\/])/;
let compiledShim: string | undefined;

/**
 * The shim in a compiled Bun program. The bundle puts the program at its root and the
 * library's code into the program, so the shim's URL beside the library's modules names
 * a shim at the root; an entry point given to `bun build --compile` sits at its path below
 * the root of the build (node_modules/@x/sam/worker_shim.js, compiled to .js).
 */
function bunCompiledShim(main: string): string {
  if (compiledShim !== undefined) return compiledShim;
  const root = dirname(main);
  const found = readdirSync(root, { recursive: true, encoding: "utf8" })
    .filter((name) => /(^|[\\/])worker_shim\.[jt]s$/.test(name)).sort();
  if (found.length === 0) {
    throw new Error(
      "sam's worker_shim is not in this compiled program: give node_modules/@x/sam/" +
        "worker_shim.js to bun build --compile as an entry point after the program's " +
        "(see sam's README)",
    );
  }
  return compiledShim = join(root, found[0]);
}

/**
 * What Bun and Node do alike in an instance: output written at once by sam, `self.close()`
 * provided, and nothing to hook for exits (the "exit" event comes for every one, and at the
 * right moment).
 */
const directOutput = {
  terminateInterruptsCode: true,
  printsWorkerErrors: false,
  prepareInstanceGlobals(_beforeExit: (code: number) => void): void {
    writeOutputDirectly();
    provideSelfClose();
  },
  warmUpOutput: warmUpConsole,
};

function bunRuntime(bun: BunLike): Runtime {
  return {
    ...common,
    ...directOutput,
    mainModule: () => (bun.main ? pathToFileURL(bun.main).href : undefined),
    workerEntry: (shim) =>
      BUN_STANDALONE.test(bun.main) ? bunCompiledShim(bun.main) : fileOrDataEntry(shim),
  };
}

/** Oldest Node.js sam runs on: the first 22.x that strips TypeScript types by default. */
const NODE_MINIMUM = [22, 18] as const;

interface CompileCache {
  enableCompileCache?(): { status: number; directory?: string };
  constants?: { compileCacheStatus?: Record<string, number> };
}

/**
 * Turns on Node's module compile cache for this process and, through NODE_COMPILE_CACHE
 * (which a Worker reads from the environment it is given when it starts), for every Worker
 * after it. Node strips the types of each TypeScript module again in every Worker, and
 * starts its stripper again there; without the cache that is most of what a recovery costs.
 * The cache is Node's own, keyed by each file's contents; NODE_COMPILE_CACHE set by the user
 * is kept, and NODE_DISABLE_COMPILE_CACHE turns it off, as for any Node program.
 */
function shareCompileCache(): void {
  if (!isMainThread || process.env.NODE_COMPILE_CACHE || process.env.NODE_DISABLE_COMPILE_CACHE) {
    return;
  }
  const { enableCompileCache, constants } = nodeModule as unknown as CompileCache;
  const status = constants?.compileCacheStatus ?? {};
  try {
    const result = enableCompileCache?.();
    const on = result &&
      (result.status === status.ENABLED || result.status === status.ALREADY_ENABLED);
    if (on && result.directory) process.env.NODE_COMPILE_CACHE = result.directory;
  } catch {
    // No cache (a directory that cannot be written): Workers only start slower.
  }
}

function nodeRuntime(version: string): Runtime {
  const [major, minor] = version.split(".").map(Number);
  if (major < NODE_MINIMUM[0] || (major === NODE_MINIMUM[0] && minor < NODE_MINIMUM[1])) {
    throw new Error(
      `sam needs Node.js ${NODE_MINIMUM.join(".")} or later (it runs TypeScript by stripping ` +
        `the types); this is Node.js ${version}`,
    );
  }
  shareCompileCache();
  return {
    ...common,
    ...directOutput,
    hrtimeIsMonotonic: true,
    // The script Node was started with, which Node has already made an absolute path.
    mainModule: () => (process.argv[1] ? pathToFileURL(process.argv[1]).href : undefined),
  };
}

/** The runtime this code runs on. */
export const runtime: Runtime = g.Deno
  ? denoRuntime(g.Deno)
  : g.Bun
  ? bunRuntime(g.Bun)
  : process.release?.name === "node"
  ? nodeRuntime(process.versions.node)
  : (() => {
    throw new Error("sam runs on Deno, Bun or Node.js");
  })();
