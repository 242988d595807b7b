// How an instance's output leaves its Worker on Bun and Node, which hand a Worker's output to
// the main thread: written at once, by sam, to the process's descriptors.
import process from "node:process";
import { Buffer } from "node:buffer";
import { writeSync } from "node:fs";

/** Waits for a non-blocking descriptor to take more (1 ms); a Worker may block. */
const outputPause = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of `bytes` to `fd`, or returns the error that stopped it. */
function writeAll(fd: number, bytes: Uint8Array): Error | null {
  for (let offset = 0; offset < bytes.byteLength;) {
    try {
      offset += writeSync(fd, bytes, offset);
    } catch (error) {
      if ((error as { code?: string }).code !== "EAGAIN") return error as Error;
      Atomics.wait(outputPause, 0, 0, 1);
    }
  }
  return null;
}

/**
 * Has this Worker's process.stdout and process.stderr (console included) write straight to
 * the process's descriptors, at once, as a Deno Worker does. Bun and Node hand a Worker's
 * output to the main thread: Bun only the first write of a turn of the Worker's event loop at
 * once, Node none of them before the turn ends. What an instance wrote in a turn that never
 * ended (a busy loop, terminated at its deadline) was lost. A write to a closed pipe hands its
 * error (EPIPE) to the write's callback, never to an `error` event, which Node would raise
 * as an uncaught exception in the instance.
 */
export function writeOutputDirectly(): void {
  for (const [stream, fd] of [[process.stdout, 1], [process.stderr, 2]] as const) {
    const write = (
      chunk: string | ArrayBufferView,
      encoding?: BufferEncoding | ((error?: Error | null) => void),
      done?: (error?: Error | null) => void,
    ): boolean => {
      if (typeof encoding === "function") [done, encoding] = [encoding, undefined];
      const bytes = typeof chunk === "string"
        ? Buffer.from(chunk, encoding)
        : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      // Errors (a closed pipe) go to the callback only: output must not end the instance.
      const error = writeAll(fd, bytes);
      if (done) queueMicrotask(() => done(error));
      return true;
    };
    (stream as unknown as { write: typeof write }).write = write;
  }
}

/**
 * Runs the console once with its output going nowhere: a Worker's first console.log() sets
 * the console up, many times the cost of the next.
 */
export function warmUpConsole(): void {
  const streams = [process.stdout, process.stderr] as unknown as { write: unknown }[];
  const writes = streams.map((stream) => stream.write);
  for (const stream of streams) stream.write = () => true;
  try {
    console.log("", 0, {});
    console.error("", 0, {});
  } finally {
    streams.forEach((stream, i) => stream.write = writes[i]);
  }
}
