// The engine without a Worker: each instance runs on a stand-in Worker (an EventEmitter), and
// the test plays the instance's side of the protocol on its block. The engine hears it through
// the real Instance, as it hears a real Worker, through the InstanceOwner seam.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { RecoveryPolicy } from "../../policy.ts";
import type { SupervisorEnd, SupervisorEventDetails } from "../../events.ts";
import type { SuperviseOptions } from "../../options.ts";
import {
  ACTIVATE_GO,
  DATA_MAGIC,
  INST_ACTIVATE,
  INST_ID,
  SUPERVISOR_HOLDER,
} from "../../shared_memory/layout.ts";
import type { InstanceData } from "../../shared_memory/messages.ts";
import {
  announceEnd,
  announceMarkFailed,
  announceRegistered,
  announceStarted,
  changeSeq,
  dataGranted,
  sendHealthCheck,
  setListening,
  untilAcknowledged,
  untilDataDecided,
} from "../../shared_memory/protocol.ts";
import { Engine, type EngineConfig } from "../../supervisor/engine.ts";
import { RegionKeeper } from "../../supervisor/region_keeper.ts";
import { within } from "../harness/helpers.ts";

const SIGTERM = 15;

/** A stand-in for an instance's Worker: what the supervisor uses of one, and nothing runs. */
class StandInWorker extends EventEmitter {
  readonly data: InstanceData;
  readonly block: Int32Array;
  readonly posted: unknown[] = [];
  #exited = false;

  constructor(data: InstanceData) {
    super();
    this.data = data;
    this.block = new Int32Array(data.block);
  }

  /** The id it was activated as; 0 while it waits. */
  get id(): number {
    const go = Atomics.load(this.block, INST_ACTIVATE) === ACTIVATE_GO;
    return go ? Atomics.load(this.block, INST_ID) : 0;
  }

  postMessage(message: unknown): void {
    this.posted.push(message);
  }

  terminate(): Promise<number> {
    setTimeout(() => this.exit(1), 0);
    return Promise.resolve(1);
  }

  /** Its thread ends with `code`, as a Worker's does. */
  exit(code: number): void {
    if (this.#exited) return;
    this.#exited = true;
    this.emit("exit", code);
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}

type Event = { [K in keyof SupervisorEventDetails]: [K, SupervisorEventDetails[K]] }[
  keyof SupervisorEventDetails
];

/** An engine on stand-in Workers, with what it emitted. */
function engineFor(options: Partial<SuperviseOptions>, config: Partial<EngineConfig> = {}) {
  const workers: StandInWorker[] = [];
  const events: Event[] = [];
  const waiting: (() => void)[] = [];
  const engine = new Engine({
    module: "file:///no/program.ts",
    options: {
      timeInterval: 1000,
      recoveryPolicy: RecoveryPolicy.RESTART,
      standby: false,
      ...options,
    },
    keeper: RegionKeeper.create(1024),
    warnSignal: SIGTERM,
    firstId: 1,
    restartAges: [],
    stuckThreads: 0,
    sinks: [],
    quorum: undefined,
    stuck: { action: "go-on" },
    emit: (type, detail) => {
      events.push([type, detail] as Event);
      for (const wake of waiting.splice(0)) wake();
    },
    startWorker: (data) => {
      const worker = new StandInWorker(data);
      workers.push(worker);
      return worker;
    },
    ...config,
  });
  /** Resolves once `count` events of `type` were emitted. */
  const seen = (type: Event[0], count = 1): Promise<void> =>
    within(
      new Promise<void>((resolve) => {
        const look = () => {
          if (events.filter(([t]) => t === type).length >= count) resolve();
          else waiting.push(look);
        };
        look();
      }),
      5_000,
      `${count} ${type} event(s)`,
    );
  const types = () => events.map(([type]) => type);
  return { engine, workers, events, seen, types };
}

test("Engine ends supervision with the instance's code when it ends with health checking stopped", async () => {
  const { engine, workers, seen, types } = engineFor({});
  engine.begin();
  const [first] = workers;
  assert.equal(first.id, 1);
  announceRegistered(first.block);
  await seen("registered");
  announceEnd(first.block, 3, 0);
  first.exit(3);
  const end: SupervisorEnd = await engine.done;
  assert.deepEqual(end, { code: 3, reason: "exited" });
  assert.deepEqual(types(), ["instance", "status", "registered", "exit", "end"]);
});

test("Engine restarts an instance that ends while started as the next id in a new Worker", async () => {
  const { engine, workers, events, seen } = engineFor({});
  engine.begin();
  announceRegistered(workers[0].block);
  announceStarted(workers[0].block);
  await seen("status", 2);
  assert.equal(engine.status.state, "running");
  announceEnd(workers[0].block, 1, 0);
  workers[0].exit(1);
  await seen("restart");
  assert.equal(workers.length, 2);
  assert.equal(workers[1].id, 2);
  assert.deepEqual(events.find(([type]) => type === "exit"), ["exit", { id: 1, code: 1 }]);
  assert.equal(engine.status.restarts, 1);
  assert.deepEqual(await engine.stop(), { code: 128 + SIGTERM, reason: "stopped" });
});

test("Engine warns an instance that listens at its missed deadline, then kills it and restarts", async () => {
  const { engine, workers, events, seen } = engineFor({ timeInterval: 50 });
  engine.begin();
  const [first] = workers;
  setListening(first.block, SIGTERM, true);
  announceRegistered(first.block);
  announceStarted(first.block);
  await seen("restart");
  assert.deepEqual(first.posted, [{ type: "signal", signal: "SIGTERM" }]);
  const steps = events.filter(([type]) => type !== "status");
  assert.deepEqual(steps.slice(0, 7), [
    ["instance", { id: 1 }],
    ["registered", { id: 1 }],
    ["late", { id: 1 }],
    ["warning", { id: 1, signal: "SIGTERM" }],
    ["terminated", { id: 1, code: 137 }],
    ["exit", { id: 1, code: 137 }],
    ["instance", { id: 2 }],
  ]);
  await engine.stop();
});

test("Engine keeps an instance whose health checks come in time", async () => {
  const { engine, workers, seen, types } = engineFor({ timeInterval: 200 });
  engine.begin();
  const [first] = workers;
  announceRegistered(first.block);
  announceStarted(first.block);
  await seen("status", 2);
  const sender = setInterval(() => sendHealthCheck(first.block), 20);
  await new Promise((resolve) => setTimeout(resolve, 600));
  clearInterval(sender);
  assert.ok(!types().includes("late"), types().join(" "));
  assert.ok(engine.status.lastUpdated > 0);
  await engine.stop();
});

test("Engine ignores markFailed() without the CMAP flag", async () => {
  const { engine, workers, seen, types } = engineFor({});
  engine.begin();
  announceRegistered(workers[0].block);
  await seen("registered");
  const { block } = workers[0];
  announceMarkFailed(block);
  // Acted on (acknowledged), and nothing came of it.
  await within(untilAcknowledged(block, changeSeq(block)), 5_000, "the acknowledgement");
  assert.ok(!types().includes("terminated"));
  assert.equal(engine.status.state, "stopped");
  assert.deepEqual(await engine.stop(), { code: 128 + SIGTERM, reason: "stopped" });
});

test("Engine ends supervision as failed with 137 at markFailed() under the CMAP flag", async () => {
  const policy = RecoveryPolicy.RESTART | RecoveryPolicy.CMAP;
  const { engine, workers, events } = engineFor({ recoveryPolicy: policy });
  engine.begin();
  announceRegistered(workers[0].block);
  announceMarkFailed(workers[0].block);
  assert.deepEqual(await engine.done, { code: 137, reason: "failed" });
  assert.deepEqual(events.find(([type]) => type === "terminated"), [
    "terminated",
    { id: 1, code: 137 },
  ]);
  assert.equal(engine.status.state, "failed");
  assert.equal(engine.status.recovery, "quit");
});

test("Engine gives up after maxRestarts within the window, with the last code", async () => {
  const { engine, workers, seen } = engineFor({ maxRestarts: 1 });
  engine.begin();
  for (const [i, code] of [[0, 4], [1, 5]]) {
    if (i === 1) await seen("restart");
    announceRegistered(workers[i].block);
    announceStarted(workers[i].block);
    announceEnd(workers[i].block, code, 0);
    workers[i].exit(code);
  }
  assert.deepEqual(await engine.done, { code: 5, reason: "restart-limit" });
  assert.equal(workers.length, 2);
});

test("Engine terminates a started instance when quorum is lost, and restarts it", async () => {
  const source = Object.assign(new EventTarget(), { quorate: true });
  const { engine, workers, events, seen } = engineFor(
    { recoveryPolicy: RecoveryPolicy.QUORUM_RESTART },
    { quorum: { source, owned: false } },
  );
  engine.begin();
  announceRegistered(workers[0].block);
  announceStarted(workers[0].block);
  await seen("status", 2);
  source.quorate = false;
  source.dispatchEvent(new Event("change"));
  await seen("restart");
  const steps = events.filter(([type]) => type === "quorum" || type === "terminated");
  assert.deepEqual(steps, [["quorum", { quorate: false }], ["terminated", {
    id: 1,
    code: 128 + SIGTERM,
  }]]);
  await engine.stop();
});

test("Engine counts a header the instance broke as a failure and starts the next one empty", async () => {
  const keeper = RegionKeeper.create(1024);
  keeper.region.store(SUPERVISOR_HOLDER, new Uint8Array([1, 2, 3]), false);
  const { engine, workers, seen } = engineFor({}, { keeper });
  engine.begin();
  const [first] = workers;
  announceRegistered(first.block);
  await seen("registered");
  // The instance overwrites the magic of the header it was given, then ends while stopped.
  new Int32Array(first.data.region.header)[DATA_MAGIC] = 0;
  announceEnd(first.block, 0, 0);
  first.exit(0);
  await seen("corrupt");
  await seen("restart");
  assert.equal(workers[1].id, 2);
  assert.equal(keeper.region.snapshot().length, 0);
  await engine.stop();
});

test("Engine activates the standby as the next instance instead of starting a Worker", async () => {
  const { engine, workers, seen } = engineFor({ standby: true, prerun: false });
  engine.begin();
  announceRegistered(workers[0].block);
  announceStarted(workers[0].block);
  // The standby is spawned a moment after the instance registered.
  await within(
    new Promise<void>((resolve) => {
      const look = () => workers.length === 2 ? resolve() : setTimeout(look, 5);
      look();
    }),
    5_000,
    "the standby",
  );
  assert.equal(workers[1].id, 0, "it waits");
  announceEnd(workers[0].block, 1, 0);
  workers[0].exit(1);
  await seen("restart");
  assert.equal(workers.length, 2, "no new Worker");
  assert.equal(workers[1].id, 2);
  await engine.stop();
});

/** An engine whose instance 1 has started, and a reload begun beside it. */
async function reloadBesideServing() {
  const context = engineFor({});
  context.engine.begin();
  const [serving] = context.workers;
  announceRegistered(serving.block);
  announceStarted(serving.block);
  await context.seen("status", 2);
  const result = context.engine.reload();
  return { ...context, serving, result, incoming: context.workers[1] };
}

test("Engine.reload() starts the next id beside the serving instance and hands over at its start(), the data its own then", async () => {
  const { engine, workers, events, seen, result, incoming } = await reloadBesideServing();
  assert.equal(incoming.id, 2);
  assert.equal(dataGranted(incoming.block), false, "the data is still the serving one's");
  announceRegistered(incoming.block);
  await seen("registered", 2);
  assert.equal(engine.status.instanceId, 1, "the record follows the one that serves");
  // Its start(): the serving instance (no listener) is terminated at once, and it takes over.
  announceStarted(incoming.block);
  assert.deepEqual(await result, { reloaded: true, id: 2, replaced: 1 });
  assert.equal(dataGranted(incoming.block), true);
  assert.equal(engine.status.instanceId, 2);
  assert.equal(engine.status.state, "running");
  const steps = events.filter(([type]) => type !== "status" && type !== "registered");
  assert.deepEqual(steps.slice(1), [
    ["reload", { id: 2, replaced: 1, outcome: "begun" }],
    ["instance", { id: 2 }],
    ["terminated", { id: 1, code: 128 + SIGTERM }],
    ["exit", { id: 1, code: 128 + SIGTERM }],
    ["reload", { id: 2, replaced: 1, outcome: "took-over" }],
  ]);
  assert.equal(workers.length, 2, "no restart");
  assert.deepEqual(await engine.stop(), { code: 128 + SIGTERM, reason: "stopped" });
});

test("Engine.reload() whose instance ends before its start() fails, refused the data, and the serving one goes on", async () => {
  const { engine, workers, types, result, incoming } = await reloadBesideServing();
  announceEnd(incoming.block, 1, 0);
  incoming.exit(1);
  assert.deepEqual(await result, { reloaded: false, id: 2, reason: "ended", code: 1 });
  assert.equal(await untilDataDecided(incoming.block), false, "a start() waiting gives up");
  assert.equal(engine.status.instanceId, 1);
  assert.equal(engine.status.state, "running");
  assert.ok(!types().includes("terminated") && !types().includes("restart"), types().join(" "));
  // Not under way any more: another may begin.
  const again = engine.reload();
  assert.equal(workers[2].id, 3);
  await engine.stop();
  assert.deepEqual(await again, { reloaded: false, id: 3, reason: "stopped" });
});
