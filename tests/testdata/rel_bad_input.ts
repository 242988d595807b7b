// A table of bad input for every export of mod.ts, in every state, in the libsam style: each
// row must give libsam's code (CS_ERR_BAD_HANDLE for a wrong state, CS_ERR_INVALID_PARAM for a
// bad argument, CS_ERR_NO_MEMORY above maxDataSize) and leave the stored data as it was. Prints
// one line per row, "ok   <row>" or "FAIL <row>: <why>", and "<pass> failures N" after each of
// three passes: the main thread before register(); instance 1's replay of the same calls
// (which must give the same codes and store nothing); instance 1 after register().
import process from "node:process";
import { isMainThread } from "node:worker_threads";
import * as sam from "../../mod.ts";
import { openCmap } from "../../corosync/cmap.ts";

const { CsError, csErrorName, RecoveryPolicy: P } = sam;
const { CS_OK: OK, CS_ERR_BAD_HANDLE: BAD, CS_ERR_INVALID_PARAM: INVALID } = CsError;
const NO_MEMORY = CsError.CS_ERR_NO_MEMORY;
const MAX = 1024;
let pass = isMainThread ? "main" : "replay";
const stored = Uint8Array.from({ length: 100 }, (_, i) => (i * 7 + 3) & 0xff);
let failures = 0;
let rows = 0;
/** What must be stored (null: the stored data cannot be read in this state). */
let mustStore: Uint8Array | null = null;

// deno-lint-ignore no-explicit-any
const any = (x: unknown) => x as any;
const fn = () => {};
const cb = () => 0;

function report(name: string, failure: string | null): void {
  rows++;
  if (failure === null) return void console.log(`ok   ${pass}: ${name}`);
  failures++;
  console.log(`FAIL ${pass}: ${name}: ${failure}`);
}

/** Whether a corosync answers here (then initialize() with corosync flags would succeed). */
function corosyncAnswers(): boolean {
  try {
    openCmap().close();
    return true;
  } catch {
    return false;
  }
}

async function row(call: string, f: () => unknown, want: number): Promise<void> {
  const name = `${call} -> ${csErrorName(want)}`;
  let got: number | string = OK;
  try {
    const result = await f();
    // A supervise() that was not refused would run: stop it at once.
    if (result instanceof sam.Supervisor) await result.stop();
  } catch (e) {
    got = e instanceof sam.SamError ? e.code : `a ${(e as Error)?.name}: ${e}`;
  }
  let failure = got === want ? null : `got ${typeof got === "number" ? csErrorName(got) : got}`;
  if (failure === null && mustStore !== null) {
    const now = sam.dataRestore();
    if (now.length !== mustStore.length || !now.every((b, i) => b === mustStore![i])) {
      failure = `the stored data changed to ${now.length} bytes`;
    }
  }
  report(name, failure);
}

function end(): void {
  console.log(`${pass} failures ${failures}`);
  failures = 0;
  rows = 0;
}

const badIntervals: [string, unknown][] = [
  ["-1", -1],
  ["-0.5", -0.5],
  ["NaN", NaN],
  ["Infinity", Infinity],
  ["-Infinity", -Infinity],
  ["2 ** 31", 2 ** 31],
  ["Number.MAX_VALUE", Number.MAX_VALUE],
  ["2 ** 53", 2 ** 53],
  ['"1000"', "1000"],
  ["1000n", 1000n],
  ["null", null],
  ["undefined", undefined],
  ["{}", {}],
];
const badPolicies: [string, unknown][] = [
  ["0", 0],
  ["3", 3],
  ["5", 5],
  ["7", 7],
  ["-1", -1],
  ["-2", -2],
  ["2 ** 31", 2 ** 31],
  ["NaN", NaN],
  ["Infinity", Infinity],
  ["2.5", 2.5],
  ['"RESTART"', "RESTART"],
  ["2n", 2n],
  ["null", null],
  ["undefined", undefined],
  ["QUORUM", P.QUORUM],
  ["CMAP", P.CMAP],
  ["QUORUM | CMAP", P.QUORUM | P.CMAP],
  ["RESTART | 0x20", P.RESTART | 0x20],
  ["RESTART | 0x100", P.RESTART | 0x100],
  ["QUIT | RESTART", P.QUIT | P.RESTART],
];
const badOptions: [string, unknown][] = [
  ["null", null],
  ['"options"', "options"],
  ["42", 42],
  ["{ maxDataSize: -1 }", { maxDataSize: -1 }],
  ["{ maxDataSize: NaN }", { maxDataSize: NaN }],
  ["{ maxDataSize: Infinity }", { maxDataSize: Infinity }],
  ["{ maxDataSize: 2 ** 53 }", { maxDataSize: 2 ** 53 }],
  ["{ maxDataSize: 10.5 }", { maxDataSize: 10.5 }],
  ['{ maxDataSize: "1024" }', { maxDataSize: "1024" }],
  ["{ maxRestarts: -1 }", { maxRestarts: -1 }],
  ["{ maxRestarts: NaN }", { maxRestarts: NaN }],
  ["{ restartWindow: -1 }", { restartWindow: -1 }],
  ["{ restartWindow: Infinity }", { restartWindow: Infinity }],
  ["{ restartDelay: 2 ** 31 }", { restartDelay: 2 ** 31 }],
  ["{ restartDelayMax: NaN }", { restartDelayMax: NaN }],
  ["{ stateFile: 42 }", { stateFile: 42 }],
  ['{ stateFile: "" }', { stateFile: "" }],
  ['{ corosyncRecord: "yes" }', { corosyncRecord: "yes" }],
  ["{ corosyncRecord: true }", { corosyncRecord: true }],
  ["{ quorum: 42 }", { quorum: 42 }],
  ["{ quorum: {} }", { quorum: {} }],
  ['{ quorum: an EventTarget whose quorate is "yes" }', {
    quorum: Object.assign(new EventTarget(), { quorate: "yes" }),
  }],
];
const badSignalNames: [string, unknown][] = [
  ['"SIGFOO"', "SIGFOO"],
  ['"sigterm"', "sigterm"],
  ['"TERM"', "TERM"],
  ['""', ""],
  ["15", 15],
  ["NaN", NaN],
  ["null", null],
  ["undefined", undefined],
  ["{}", {}],
];
const notBytes: [string, unknown][] = [
  ['"abc"', "abc"],
  ["42", 42],
  ["-1", -1],
  ["NaN", NaN],
  ["Infinity", Infinity],
  ["true", true],
  ["undefined", undefined],
  ["{}", {}],
  ["{ length: 3 }", { length: 3 }],
  ["[1, 2, 3]", [1, 2, 3]],
  ["a function", fn],
  ["a Promise", Promise.resolve(new Uint8Array(1))],
];
const notInto: [string, unknown][] = [
  ['"x"', "x"],
  ["42", 42],
  ["null", null],
  ["[]", []],
  ["an Int8Array", new Int8Array(200)],
  ["a Uint16Array", new Uint16Array(200)],
  ["a Uint8ClampedArray", new Uint8ClampedArray(200)],
  ["an ArrayBuffer", new ArrayBuffer(200)],
  ["a DataView", new DataView(new ArrayBuffer(200))],
];
const tooBig: [string, unknown][] = [
  ["a Uint8Array of 1025 bytes", new Uint8Array(MAX + 1)],
  ["a Float64Array of 129 (1032 bytes)", new Float64Array(129)],
  ["a DataView of 2000 bytes", new DataView(new ArrayBuffer(2000))],
  ["an ArrayBuffer of 1 MiB", new ArrayBuffer(1 << 20)],
  ["a SharedArrayBuffer of 1025 bytes", new SharedArrayBuffer(MAX + 1)],
  ["a view of 1025 bytes into a larger buffer", new Uint8Array(new ArrayBuffer(4096), 7, 1025)],
];

/** Rows for calls that must be refused as being in the wrong state, named by `state`. */
async function wrongState(state: string, calls: [string, () => unknown][]): Promise<void> {
  for (const [call, f] of calls) await row(`${call} ${state}`, f, BAD);
}

// --- Not initialized (main thread, and instance 1's replay) ---
await wrongState("before initialize()", [
  ["register()", () => sam.register()],
  ["start()", () => sam.start()],
  ["stop()", () => sam.stop()],
  ["hcSend()", () => sam.hcSend()],
  ["hcCallbackRegister(fn)", () => sam.hcCallbackRegister(cb)],
  ["hcCallbackRegister(null)", () => sam.hcCallbackRegister(null)],
  ['warnSignalSet("SIGUSR1")', () => sam.warnSignalSet("SIGUSR1")],
  ['warnSignalSet("SIGFOO")', () => sam.warnSignalSet("SIGFOO")],
  ["dataStore(100 bytes)", () => sam.dataStore(stored)],
  ["dataStore(null)", () => sam.dataStore(null)],
  ['dataStore("abc")', () => sam.dataStore(any("abc"))],
  ["dataGetsize()", () => sam.dataGetsize()],
  ["dataRestore()", () => sam.dataRestore()],
  ["markFailed()", () => sam.markFailed()],
  ["finalize()", () => sam.finalize()],
]);
// libsam checks the buffer of sam_data_restore before the state.
await row('dataRestore("x") before initialize()', () => sam.dataRestore(any("x")), INVALID);
for (const [label, value] of badIntervals) {
  await row(`initialize(${label}, QUIT)`, () => sam.initialize(any(value), P.QUIT), INVALID);
}
for (const [label, value] of badPolicies) {
  await row(`initialize(1000, ${label})`, () => sam.initialize(1000, any(value)), INVALID);
}
for (const [label, value] of badOptions) {
  await row(
    `initialize(1000, RESTART, ${label})`,
    () => sam.initialize(1000, P.RESTART, any(value)),
    INVALID,
  );
}
// Without a source, corosync's quorum service is asked, as libsam does: CS_ERR_LIBRARY where
// it cannot be reached (a machine's own corosync would answer, so the row needs none).
if (!corosyncAnswers()) {
  await row(
    "initialize(1000, QUORUM_RESTART) without a quorum source nor corosync",
    () => sam.initialize(1000, P.QUORUM_RESTART),
    CsError.CS_ERR_LIBRARY,
  );
  await row(
    'initialize(1000, RESTART | CMAP, { corosyncRecord: "required" }) without corosync',
    () => sam.initialize(1000, P.RESTART | P.CMAP, { corosyncRecord: "required" }),
    CsError.CS_ERR_LIBRARY,
  );
}
for (
  const [label, value] of [...badSignalNames, ['"SIGKILL"', "SIGKILL"], ['"SIGSTOP"', "SIGSTOP"]]
) {
  await row(
    `addSignalListener(${label}, fn)`,
    () => sam.addSignalListener(any(value), fn),
    INVALID,
  );
  await row(
    `removeSignalListener(${label}, fn)`,
    () => sam.removeSignalListener(any(value), fn),
    INVALID,
  );
}
for (const [label, value] of [["null", null], ['"fn"', "fn"], ["42", 42], ["{}", {}]]) {
  await row(
    `addSignalListener("SIGUSR1", ${label})`,
    () => sam.addSignalListener("SIGUSR1", any(value)),
    INVALID,
  );
}
// supervise() is not part of the libsam state machine: its bad options are refused anywhere.
const app = new URL("./counter_app.ts", import.meta.url);
for (const [label, value] of badIntervals) {
  await row(
    `supervise(app, { timeInterval: ${label}, recoveryPolicy: RESTART })`,
    () => sam.supervise(app, { timeInterval: any(value), recoveryPolicy: P.RESTART }),
    INVALID,
  );
}
for (const [label, value] of badPolicies) {
  await row(
    `supervise(app, { timeInterval: 0, recoveryPolicy: ${label} })`,
    () => sam.supervise(app, { timeInterval: 0, recoveryPolicy: any(value) }),
    INVALID,
  );
}
// A huge policy whose low 32 bits are RESTART (2 ** 32 + 2): no C int holds it.
await row(
  "supervise(app, { timeInterval: 0, recoveryPolicy: 2 ** 32 + 2 })",
  () => sam.supervise(app, { timeInterval: 0, recoveryPolicy: 2 ** 32 + 2 }),
  INVALID,
);
for (const [label, value] of badOptions.filter(([, v]) => v !== null && typeof v === "object")) {
  await row(
    `supervise(app, { timeInterval: 0, recoveryPolicy: RESTART, ...${label} })`,
    () => sam.supervise(app, { timeInterval: 0, recoveryPolicy: P.RESTART, ...any(value) }),
    INVALID,
  );
}
for (const [label, value] of badSignalNames.filter(([, v]) => v !== undefined)) {
  await row(
    `supervise(app, { timeInterval: 0, recoveryPolicy: RESTART, warnSignal: ${label} })`,
    () =>
      sam.supervise(app, { timeInterval: 0, recoveryPolicy: P.RESTART, warnSignal: any(value) }),
    INVALID,
  );
}
for (const [label, value] of notBytes.filter(([, v]) => v !== undefined)) {
  await row(
    `supervise(app, { timeInterval: 0, recoveryPolicy: RESTART, data: ${label} })`,
    () => sam.supervise(app, { timeInterval: 0, recoveryPolicy: P.RESTART, data: any(value) }),
    INVALID,
  );
}
for (const [label, value] of [["null", null], ['"text"', "text"], ["42", 42]]) {
  await row(
    `supervise(app, ${label})`,
    () => sam.supervise(app, any(value)),
    INVALID,
  );
}
await row(
  "supervise(app, { timeInterval: 0, recoveryPolicy: RESTART, maxDataSize: 10, data: 11 bytes })",
  () =>
    sam.supervise(app, {
      timeInterval: 0,
      recoveryPolicy: P.RESTART,
      maxDataSize: 10,
      data: new Uint8Array(11),
    }),
  NO_MEMORY,
);

// --- Initialized (main thread, and instance 1's replay) ---
sam.initialize(60_000, P.RESTART, { maxDataSize: MAX });
sam.dataStore(stored);
mustStore = stored;
await wrongState("after initialize(), before register()", [
  ["initialize(60000, RESTART)", () => sam.initialize(60_000, P.RESTART)],
  ["initialize(-1, QUIT)", () => sam.initialize(-1, P.QUIT)],
  ["initialize(1000, 0)", () => sam.initialize(1000, 0)],
  ["start()", () => sam.start()],
  ["stop()", () => sam.stop()],
  ["hcSend()", () => sam.hcSend()],
  ["hcCallbackRegister(fn)", () => sam.hcCallbackRegister(cb)],
  ["hcCallbackRegister(42)", () => sam.hcCallbackRegister(any(42))],
  ["markFailed()", () => sam.markFailed()],
]);
async function dataRows(where: string): Promise<void> {
  for (const [label, value] of notBytes) {
    await row(`dataStore(${label}) ${where}`, () => sam.dataStore(any(value)), INVALID);
  }
  for (const [label, value] of tooBig) {
    await row(
      `dataStore(${label}) ${where}, maxDataSize 1024`,
      () => sam.dataStore(any(value)),
      NO_MEMORY,
    );
  }
  for (const [label, value] of notInto) {
    await row(`dataRestore(${label}) ${where}`, () => sam.dataRestore(any(value)), INVALID);
  }
  await row(
    `dataRestore(a Uint8Array of 99) ${where}, 100 stored`,
    () => sam.dataRestore(new Uint8Array(99)),
    INVALID,
  );
  await row(
    `dataRestore(an empty Uint8Array) ${where}, 100 stored`,
    () => sam.dataRestore(new Uint8Array(0)),
    INVALID,
  );
  for (const [label, value] of badSignalNames) {
    await row(`warnSignalSet(${label}) ${where}`, () => sam.warnSignalSet(any(value)), INVALID);
  }
  await row(
    `dataStore(exactly 1024 bytes, then the 100 again) ${where}`,
    () => {
      sam.dataStore(new Uint8Array(MAX));
      sam.dataStore(stored);
    },
    OK,
  );
}
await dataRows("after initialize()");
end();

// --- Instance 1, after register() ---
const iid = await sam.register();
if (iid !== 1) {
  console.log(`FAIL instance: iid ${iid}`);
  process.exit(1);
}
pass = "instance";
{
  mustStore = stored;
  await wrongState("after register()", [
    ["register()", () => sam.register()],
    ["initialize(60000, RESTART)", () => sam.initialize(60_000, P.RESTART)],
    ["initialize(-1, QUIT)", () => sam.initialize(-1, P.QUIT)],
    ["stop()", () => sam.stop()],
    ["hcSend()", () => sam.hcSend()],
  ]);
  await row("markFailed() without the CMAP flag", () => sam.markFailed(), INVALID);
  await row(
    "hcCallbackRegister(null) with no callback",
    () => sam.hcCallbackRegister(null),
    INVALID,
  );
  for (const [label, value] of [['"fn"', "fn"], ["42", 42], ["{}", {}], ["true", true]]) {
    await row(`hcCallbackRegister(${label})`, () => sam.hcCallbackRegister(any(value)), INVALID);
  }
  await row("hcCallbackRegister(fn), then null", () => {
    sam.hcCallbackRegister(() => 0);
    sam.hcCallbackRegister(null);
  }, OK);
  await dataRows("after register()");
  await row("start()", () => sam.start(), OK);
  await wrongState("after start()", [
    ["register()", () => sam.register()],
    ["start()", () => sam.start()],
    ["initialize(60000, RESTART)", () => sam.initialize(60_000, P.RESTART)],
    ["hcCallbackRegister(fn)", () => sam.hcCallbackRegister(cb)],
  ]);
  await dataRows("after start()");
  await row("hcSend()", () => sam.hcSend(), OK);
  await row("stop()", () => sam.stop(), OK);
  mustStore = null;
  await row("finalize()", () => sam.finalize(), OK);
  await wrongState("after finalize()", [
    ["initialize(60000, RESTART)", () => sam.initialize(60_000, P.RESTART)],
    ["register()", () => sam.register()],
    ["start()", () => sam.start()],
    ["stop()", () => sam.stop()],
    ["hcSend()", () => sam.hcSend()],
    ["hcCallbackRegister(fn)", () => sam.hcCallbackRegister(cb)],
    ["hcCallbackRegister(null)", () => sam.hcCallbackRegister(null)],
    ['warnSignalSet("SIGUSR1")', () => sam.warnSignalSet("SIGUSR1")],
    ["dataStore(100 bytes)", () => sam.dataStore(stored)],
    ["dataStore(null)", () => sam.dataStore(null)],
    ['dataStore("abc")', () => sam.dataStore(any("abc"))],
    ["dataGetsize()", () => sam.dataGetsize()],
    ["dataRestore()", () => sam.dataRestore()],
    ["markFailed()", () => sam.markFailed()],
    ["finalize()", () => sam.finalize()],
  ]);
  await row('dataRestore("x") after finalize()', () => sam.dataRestore(any("x")), INVALID);
  end();
}
