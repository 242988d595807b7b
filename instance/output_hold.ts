// Holds what a thread writes to stdout and stderr until it is released: a standby runs the
// application ahead, and what it prints before its activation comes out at activation, in
// order, after everything the instance before it printed.
import process from "node:process";
import { format } from "node:util";
import { runtime } from "../platform/runtime.ts";

/** Output being held. */
export interface OutputHold {
  /** Writes everything held, in order, and lets output through again. */
  release(): void;
  /** Drops everything held (a standby that is not used) and lets output through again. */
  discard(): void;
}

type Held = [fd: 1 | 2, chunk: string | Uint8Array];
type Write = (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;

const CONSOLE_TO: Record<string, 1 | 2> = {
  log: 1,
  info: 1,
  debug: 1,
  dir: 1,
  error: 2,
  warn: 2,
  trace: 2,
};

/**
 * Holds this thread's output from now on. The writers are wrapped once and stay wrapped, so
 * that letting output through again is one flag (a standby's activation is on a recovery's
 * path): once released, each wrapper passes straight on to what it wrapped.
 */
export function holdOutput(): OutputHold {
  let held: Held[] | null = [];
  const streams = [process.stdout, process.stderr] as unknown as { write: Write }[];
  const writes = streams.map((stream) => stream.write.bind(stream));
  streams.forEach((stream, i) => {
    const write = writes[i];
    stream.write = (chunk, ...rest) => {
      if (held === null) return write(chunk, ...rest);
      held.push([(i + 1) as 1 | 2, typeof chunk === "string" ? chunk : chunk.slice()]);
      const done = rest.find((r) => typeof r === "function") as (() => void) | undefined;
      if (done) queueMicrotask(done);
      return true;
    };
  });
  const c = console as unknown as Record<string, (...args: unknown[]) => void>;
  for (const [name, fd] of Object.entries(CONSOLE_TO)) {
    const method = c[name].bind(console);
    c[name] = (...args: unknown[]) => {
      if (held === null) return method(...args);
      const text = name === "trace"
        ? `Trace: ${format(...args)}\n${new Error().stack?.split("\n").slice(2).join("\n")}`
        : format(...args);
      held.push([fd, text + "\n"]);
    };
  }
  runtime.ownOutput().forEach((w, i) => {
    const writeSync = w.writeSync.bind(w);
    const write = w.write.bind(w);
    w.writeSync = (p) => {
      if (held === null) return writeSync(p);
      held.push([(i + 1) as 1 | 2, p.slice()]);
      return p.length;
    };
    w.write = (p) => held === null ? write(p) : Promise.resolve(w.writeSync(p));
  });
  return {
    release() {
      const chunks = held ?? [];
      held = null;
      for (const [fd, chunk] of chunks) writes[fd - 1](chunk);
    },
    discard() {
      held = null;
    },
  };
}
