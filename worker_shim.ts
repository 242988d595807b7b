/**
 * The Worker entry of every instance: it attaches the shared region, gives the instance the
 * globals a Deno or Bun program expects, waits to be activated, then imports the application.
 * The supervisor starts it; applications do not import it.
 *
 * @module
 */
import { parentPort, workerData } from "node:worker_threads";
import process from "node:process";
import { setInstanceContext } from "./_context.ts";
import {
  FLAG_ENDED,
  INST_END_SEEN,
  INST_EVENT_SEQ,
  INST_EXIT_CODE,
  INST_FLAGS,
  INST_RELEASE,
} from "./_layout.ts";
import { DataRegion, type DataRegionHandles } from "./_region.ts";
import { runtime } from "./_runtime.ts";
import { signalNumber } from "./_signals.ts";

interface Activation {
  type: "activate";
  id: number;
  region: DataRegionHandles;
  timeInterval: number;
  recoveryPolicy: number;
}

interface SignalMessage {
  type: "signal";
  signal: string;
}

const { mainModule, block: buffer } = workerData as {
  mainModule: string;
  block: SharedArrayBuffer;
};
const block = new Int32Array(buffer);
/** Longest an ended instance waits for the supervisor to act on its end. */
const END_SEEN_WAIT_MS = 100;
const signalListeners = new Map<number, Set<() => void>>();
// The supervisor learns this thread's id from this first message, sent before the
// application can run (so that it cannot be forged).
parentPort!.postMessage({ type: "thread", threadId: runtime.threadId() });

/**
 * Tells the supervisor that this instance's JavaScript has ended, before the runtime tears
 * the Worker down (which takes milliseconds): the exit code first, then the flag that
 * publishes it, then a wake-up. Then it waits until the supervisor has acted on it: whatever
 * this thread does next (printing an error, tearing down) delays the main thread's wake-up
 * by 0.4-3 ms (measured on Bun 1.4.5 and Deno 2.9.6), and the next instance with it.
 */
function ended(code: number): void {
  if (Atomics.load(block, INST_FLAGS) & FLAG_ENDED) return;
  Atomics.store(block, INST_EXIT_CODE, code);
  Atomics.or(block, INST_FLAGS, FLAG_ENDED);
  Atomics.add(block, INST_EVENT_SEQ, 1);
  Atomics.notify(block, INST_EVENT_SEQ);
  // "ok" (seen), "not-equal" (seen before) and "timed-out" (a busy supervisor) all mean: go on.
  Atomics.wait(block, INST_END_SEEN, 0, END_SEEN_WAIT_MS);
}

/**
 * Tearing a Worker down takes CPU that the next instance needs to start; where it pays (see
 * runtime.endedPauseMs), wait before going on. The supervisor releases the pause at once
 * when no next instance follows.
 */
function leaveTheCpu(): void {
  if (leftTheCpu || runtime.endedPauseMs === 0) return;
  leftTheCpu = true;
  // "ok" (released), "not-equal" (released before) and "timed-out" all mean: go on.
  Atomics.wait(block, INST_RELEASE, 0, runtime.endedPauseMs);
}
let leftTheCpu = false;
runtime.prepareInstanceGlobals((code) => {
  ended(code);
  leaveTheCpu();
});

// An uncaught error or unhandled rejection ends the instance with code 1, as it ends a
// program; the runtimes differ here inside a Worker, so the shim decides.
function fail(error: unknown): void {
  ended(1);
  console.error(error);
  leaveTheCpu();
  process.exit(1);
}
process.on("uncaughtException", fail);
process.on("unhandledRejection", fail);

const port = parentPort!;
port.on("message", (message: Activation | SignalMessage) => {
  if (message.type === "signal") {
    for (const fn of signalListeners.get(signalNumber(message.signal)) ?? []) fn();
    return;
  }
  if (message.type !== "activate") return;
  setInstanceContext({
    id: message.id,
    block,
    region: new DataRegion(message.region),
    timeInterval: message.timeInterval,
    recoveryPolicy: message.recoveryPolicy,
    signalListeners,
  });
  // From here the port must not keep the instance alive: an instance with nothing left to
  // do ends, as a program does.
  port.unref();
  let evaluated = false;
  import(mainModule).then(() => evaluated = true, fail);
  // "beforeExit" comes only when the event loop ran dry, never for an explicit exit. A
  // top-level await that never settles is then an error, as Deno reports it for a program.
  process.on("beforeExit", () => {
    if (!evaluated) process.exit(1);
  });
  // The event loop ran dry for good (or an exit that did not come through process.exit).
  process.on("exit", (code: number) => {
    ended(code);
    leaveTheCpu();
  });
});

// A standby loads the library ahead, so that a recovery only imports the application.
import("./mod.ts");
