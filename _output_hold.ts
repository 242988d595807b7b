// Holds what a thread writes to stdout and stderr until it is released: a standby runs the
// application ahead, and what it prints before its activation comes out at activation, in
// order, after everything the instance before it printed.
import process from "node:process";
import { format } from "node:util";

/** Output being held. */
export interface OutputHold {
  /** Writes everything held, in order, and lets output through again. */
  release(): void;
  /** Drops everything held (a standby that is not used) and lets output through again. */
  discard(): void;
}

type Held = [fd: 1 | 2, chunk: string | Uint8Array];
type Write = (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;

interface DenoWriter {
  writeSync(p: Uint8Array): number;
  write(p: Uint8Array): Promise<number>;
}
const deno = (globalThis as { Deno?: { stdout: DenoWriter; stderr: DenoWriter } }).Deno;

const CONSOLE_TO: Record<string, 1 | 2> = {
  log: 1,
  info: 1,
  debug: 1,
  dir: 1,
  error: 2,
  warn: 2,
  trace: 2,
};

/** Holds this thread's output from now on. */
export function holdOutput(): OutputHold {
  const held: Held[] = [];
  const streams = [process.stdout, process.stderr] as unknown as { write: Write }[];
  const writes = streams.map((stream) => stream.write);
  const c = console as unknown as Record<string, (...args: unknown[]) => void>;
  const methods = Object.fromEntries(Object.keys(CONSOLE_TO).map((name) => [name, c[name]]));
  const writers = deno ? [deno.stdout, deno.stderr] : [];
  const denoWrites = writers.map((w) => [w.writeSync, w.write] as const);
  streams.forEach((stream, i) => {
    stream.write = (chunk, ...rest) => {
      held.push([(i + 1) as 1 | 2, typeof chunk === "string" ? chunk : chunk.slice()]);
      const done = rest.find((r) => typeof r === "function") as (() => void) | undefined;
      if (done) queueMicrotask(done);
      return true;
    };
  });
  for (const [name, fd] of Object.entries(CONSOLE_TO)) {
    c[name] = (...args: unknown[]) => {
      const text = name === "trace"
        ? `Trace: ${format(...args)}\n${new Error().stack?.split("\n").slice(2).join("\n")}`
        : format(...args);
      held.push([fd, text + "\n"]);
    };
  }
  writers.forEach((w, i) => {
    w.writeSync = (p) => {
      held.push([(i + 1) as 1 | 2, p.slice()]);
      return p.length;
    };
    w.write = (p) => Promise.resolve(w.writeSync(p));
  });
  const restore = () => {
    streams.forEach((stream, i) => stream.write = writes[i]);
    for (const name of Object.keys(CONSOLE_TO)) c[name] = methods[name];
    writers.forEach((w, i) => [w.writeSync, w.write] = denoWrites[i]);
  };
  return {
    release() {
      restore();
      for (const [fd, chunk] of held) streams[fd - 1].write(chunk);
      held.length = 0;
    },
    discard() {
      restore();
      held.length = 0;
    },
  };
}
