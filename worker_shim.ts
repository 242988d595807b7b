/**
 * The Worker entry of every instance: it attaches the shared region, gives the instance the
 * globals a Deno or Bun program expects, waits to be activated, then imports the application.
 * The supervisor starts it; applications do not import it.
 *
 * @module
 */
import { parentPort, workerData } from "node:worker_threads";
import process from "node:process";
import { inspect } from "node:util";
import { setInstanceContext } from "./_context.ts";
import {
  ACTIVATE_GO,
  ACTIVATE_WAITING,
  FLAG_ENDED,
  INST_ACTIVATE,
  INST_END_SEEN,
  INST_EVENT_SEQ,
  INST_EXIT_CODE,
  INST_FLAGS,
  INST_ID,
} from "./_layout.ts";
import { DataRegion, type DataRegionHandles } from "./_region.ts";
import { runtime } from "./_runtime.ts";
import { signalNumber } from "./_signals.ts";

/** What the supervisor gives every Worker it starts. */
interface InstanceData {
  mainModule: string;
  /** The instance block (see _layout.ts). */
  block: SharedArrayBuffer;
  /** The data region this Worker acts on once activated (a standby's is prepared ahead). */
  region: DataRegionHandles;
  timeInterval: number;
  recoveryPolicy: number;
}

interface SignalMessage {
  type: "signal";
  signal: string;
}

const data = workerData as InstanceData;
const block = new Int32Array(data.block);
/** Longest an ended instance waits for the supervisor to act on its end. */
const END_SEEN_WAIT_MS = 100;
/** Longest a waiting Worker blocks before it gives its event loop a turn. */
const ACTIVATION_WAIT_MS = 1000;
const signalListeners = new Map<number, Set<() => void>>();
// The supervisor learns this thread's id from this first message, sent before the
// application can run (so that it cannot be forged).
parentPort!.postMessage({ type: "thread", threadId: runtime.threadId() });

/**
 * Tells the supervisor that this instance's JavaScript has ended, before the runtime tears
 * the Worker down (which takes milliseconds): the exit code first, then the flag that
 * publishes it, then a wake-up. Then it waits until the supervisor has acted on it: tearing
 * down right away delayed the main thread's wake-up by 0.2-2 ms (measured on Bun 1.4.5 and
 * Deno 2.9.6), and the next instance with it.
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

runtime.prepareInstanceGlobals(ended);

/** How many causes of an uncaught error are printed. */
const MAX_CAUSES = 8;

/** What a program prints for an uncaught error: its stack and those of its causes. */
function uncaughtText(error: unknown): string {
  try {
    if (!(error instanceof Error)) return `Uncaught ${inspect(error)}`;
    let text = error.stack ?? String(error);
    let cause = error.cause;
    for (let depth = 0; cause !== undefined && depth < MAX_CAUSES; depth++) {
      text += `\nCaused by: ${
        cause instanceof Error ? cause.stack ?? String(cause) : inspect(cause)
      }`;
      cause = cause instanceof Error ? cause.cause : undefined;
    }
    return text;
  } catch {
    return "Uncaught error (it could not be printed)";
  }
}

// An uncaught error or unhandled rejection ends the instance with code 1, as it ends a
// program; the runtimes differ here inside a Worker, so the shim decides. The error goes to
// process.stderr, behind the instance's own output, as a stack: console.error(error) took
// 3 ms on Bun (with a code excerpt) and 0.6 ms on Deno, before the next instance could start.
function fail(error: unknown): void {
  process.stderr.write(uncaughtText(error) + "\n");
  process.exit(1);
}
process.on("uncaughtException", fail);
process.on("unhandledRejection", fail);

const port = parentPort!;
port.on("message", (message: SignalMessage) => {
  if (message.type !== "signal") return;
  for (const fn of signalListeners.get(signalNumber(message.signal)) ?? []) fn();
});

/**
 * Waits to be activated. Through shared memory rather than a message: a message takes
 * 0.5 ms (Bun) to 1.1 ms (Deno) to arrive, a notify 0.05 ms. Blocking is fine here, as a
 * waiting Worker has nothing else to do; the turn of the event loop between waits is where
 * Deno's terminate() gets through.
 */
function awaitActivation(): void {
  // "ok", "not-equal" and "timed-out" all mean: read the word.
  Atomics.wait(block, INST_ACTIVATE, ACTIVATE_WAITING, ACTIVATION_WAIT_MS);
  const word = Atomics.load(block, INST_ACTIVATE);
  if (word === ACTIVATE_GO) return activate(Atomics.load(block, INST_ID));
  // ACTIVATE_LEAVE: terminate() is on its way.
  if (word === ACTIVATE_WAITING) setTimeout(awaitActivation, 0);
}

function activate(id: number): void {
  setInstanceContext({
    id,
    block,
    region: new DataRegion(data.region),
    timeInterval: data.timeInterval,
    recoveryPolicy: data.recoveryPolicy,
    signalListeners,
  });
  // From here the port must not keep the instance alive: an instance with nothing left to
  // do ends, as a program does.
  port.unref();
  let evaluated = false;
  import(data.mainModule).then(() => evaluated = true, fail);
  // "beforeExit" comes only when the event loop ran dry, never for an explicit exit. A
  // top-level await that never settles is then an error, as Deno reports it for a program.
  process.on("beforeExit", () => {
    if (!evaluated) process.exit(1);
  });
  // Every end that prepareInstanceGlobals() left to it: the event loop ran dry for good, or
  // an exit the runtime reports here at the right moment.
  process.on("exit", ended);
}

// A standby loads the library ahead and runs its first calls and its console once, so that
// a recovery only imports the application.
Promise.all([import("./mod.ts"), import("./sam.ts")]).then(([, sam]) => {
  sam._warmUp();
  runtime.warmUpOutput();
  awaitActivation();
}, fail);
