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
import { setInstanceContext } from "./instance/context.ts";
import { PRERUN_FAILED } from "./shared_memory/layout.ts";
import { holdOutput, type OutputHold } from "./instance/output_hold.ts";
import {
  announceEnd,
  setPrerun,
  waitForActivation,
  whenActivated,
} from "./shared_memory/protocol.ts";
import {
  type InstanceData,
  isSignalMessage,
  type ThreadMessage,
} from "./shared_memory/messages.ts";
import { DataRegion } from "./shared_memory/region.ts";
import { runtime } from "./platform/runtime.ts";
import { signalNumber } from "./shared_memory/signals.ts";

const data = workerData as InstanceData;
const block = new Int32Array(data.block);
/** Longest an ended instance waits for the supervisor to act on its end. */
const END_SEEN_WAIT_MS = 100;
/** Longest a waiting Worker blocks before it gives its event loop a turn. */
const ACTIVATION_WAIT_MS = 1000;
const signalListeners = new Map<number, Set<() => void>>();
/** The output held while a standby runs the application ahead; null once it is an instance. */
let standing: OutputHold | null = null;
let evaluated = false;

// The supervisor learns this thread's id from this first message, sent before the
// application can run (so that it cannot be forged).
const hello: ThreadMessage = { type: "thread", threadId: runtime.threadId() };
parentPort!.postMessage(hello);

/**
 * Tells the supervisor that this instance's JavaScript has ended, before the runtime tears
 * the Worker down (which takes a while), and waits until it has acted on that.
 */
function ended(code: number): void {
  announceEnd(block, code, END_SEEN_WAIT_MS);
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
// process.stderr, behind the instance's own output, as a stack: console.error(error) costs
// far more (Bun prints a code excerpt), before the next instance could start.
function fail(error: unknown): void {
  if (standing !== null) {
    // A pre-run that failed before its activation: the supervisor drops this standby.
    setPrerun(block, PRERUN_FAILED);
    standing.discard();
  }
  process.stderr.write(uncaughtText(error) + "\n");
  process.exit(1);
}
process.on("uncaughtException", fail);
process.on("unhandledRejection", fail);

const port = parentPort!;
port.on("message", (message: unknown) => {
  if (!isSignalMessage(message)) return;
  for (const fn of signalListeners.get(signalNumber(message.signal)) ?? []) fn();
});

/**
 * Waits to be activated. Through shared memory rather than a message, which takes far longer
 * to arrive than a notify. Blocking is fine here, as a
 * waiting Worker has nothing else to do; the turn of the event loop between waits is where
 * Deno's terminate() gets through.
 */
function awaitActivation(): void {
  const activation = waitForActivation(block, ACTIVATION_WAIT_MS);
  if (typeof activation === "number") return activate(activation);
  // "leave": terminate() is on its way.
  if (activation === "waiting") setTimeout(awaitActivation, 0);
}

/**
 * How every instance ends, as a program does. A standby sets this up ahead (its activation is
 * on a recovery's path), and it holds from the activation on.
 */
function endAsAProgram(): void {
  // "beforeExit" comes only when the event loop ran dry, never for an explicit exit. A
  // top-level await that never settles is then an error, as Deno reports it for a program.
  process.on("beforeExit", () => {
    if (!evaluated && standing === null) process.exit(1);
  });
  // Every end that prepareInstanceGlobals() left to it: the event loop ran dry for good, or
  // an exit the runtime reports here at the right moment.
  process.on("exit", ended);
}

function activate(id: number): void {
  setInstanceContext({
    id,
    block,
    region: new DataRegion(data.region),
    // A reload's instance reads the running instance's data until it takes over.
    replayRegion: data.replay === null ? null : new DataRegion(data.replay),
    activated: null,
    timeInterval: data.timeInterval,
    recoveryPolicy: data.recoveryPolicy,
    signalListeners,
  });
  // From here the port must not keep the instance alive: an instance with nothing left to
  // do ends, as a program does.
  port.unref();
  endAsAProgram();
  import(data.mainModule).then(() => evaluated = true, fail);
}

/**
 * A standby that runs the application ahead, up to its register(), as a fork would find it:
 * its output is held and its replayed reads see what is stored now. Activation sets the id,
 * lets the output out and resolves register().
 */
function prerun(): void {
  standing = holdOutput();
  let resolveActivated!: (id: number) => void;
  const context = {
    id: 0,
    block,
    region: new DataRegion(data.region),
    replayRegion: new DataRegion(data.replay!),
    activated: new Promise<number>((resolve) => resolveActivated = resolve),
    timeInterval: data.timeInterval,
    recoveryPolicy: data.recoveryPolicy,
    signalListeners,
  };
  setInstanceContext(context);
  endAsAProgram();
  // Bun does not count a pending waitAsync as work, and would end the standby as idle.
  const keepAlive = setInterval(() => {}, 2 ** 30);
  import(data.mainModule).then(() => {
    evaluated = true;
    // Evaluated without waiting in register(): not a program this standby can stand in for.
    if (standing !== null) setPrerun(block, PRERUN_FAILED);
  }, fail);
  whenActivated(block, (activation) => {
    clearInterval(keepAlive);
    const hold = standing!;
    standing = null;
    if (activation === "leave") return hold.discard(); // terminate() is on its way
    context.id = activation;
    hold.release();
    port.unref();
    resolveActivated(context.id);
  }, ACTIVATION_WAIT_MS);
}

if (data.prerun) {
  prerun();
} else {
  // A standby loads the library ahead and runs its first calls and its console once, so that
  // a recovery only imports the application.
  Promise.all([import("./mod.ts"), import("./instance/warm_up.ts")]).then(([, { warmUp }]) => {
    warmUp();
    runtime.warmUpOutput();
    awaitActivation();
  }, fail);
}
