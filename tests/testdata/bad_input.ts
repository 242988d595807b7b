// A table of bad input for every export, in every state: each row must give libsam's code
// and leave the stored data as it was. Prints one line per failed row and "rows N failures N"
// from the main thread (before register()) and from the instance (after it).
import { isMainThread } from "node:worker_threads";
import * as sam from "../../mod.ts";

const { CS_ERR_BAD_HANDLE: BAD, CS_ERR_INVALID_PARAM: INVALID, CS_ERR_NO_MEMORY: NO_MEMORY } =
  sam.CsError;
// Before register() an instance replays these calls; only the main thread's pass counts.
let counting = isMainThread;
let rows = 0;
let failures = 0;
const stored = new Uint8Array([1, 2, 3, 4, 5]);
let checkStored = false;

async function row(name: string, call: () => unknown, want: number): Promise<void> {
  let got: number | string = sam.CsError.CS_OK;
  try {
    await call();
  } catch (e) {
    got = e instanceof sam.SamError ? e.code : `${e}`;
  }
  if (!counting) return;
  rows++;
  if (got !== want) {
    failures++;
    console.log(`FAIL ${name}: got ${got}, want ${want}`);
  }
  if (checkStored) {
    const now = sam.dataRestore();
    if (now.length !== stored.length || !now.every((b, i) => b === stored[i])) {
      failures++;
      console.log(`FAIL ${name}: changed the stored data`);
    }
  }
}

const fn = () => {};
const notBytes: [string, unknown][] = [
  ['"abc"', "abc"],
  ["42", 42],
  ["NaN", NaN],
  ["true", true],
  ["{}", {}],
  ["[1, 2]", [1, 2]],
  ["undefined", undefined],
  ["a function", fn],
];
const badIntervals: [string, unknown][] = [
  ["-1", -1],
  ["NaN", NaN],
  ["Infinity", Infinity],
  ["-Infinity", -Infinity],
  ["2 ** 31", 2 ** 31],
  ["1e300", 1e300],
  ['"100"', "100"],
  ["null", null],
  ["undefined", undefined],
];
const badPolicies: [string, unknown][] = [
  ["0", 0],
  ["3", 3],
  ["4", 4],
  ["QUORUM alone", sam.RecoveryPolicy.QUORUM],
  ["CMAP alone", sam.RecoveryPolicy.CMAP],
  ["0x20 | RESTART", 0x22],
  ["1.5", 1.5],
  ["-1", -1],
  ["NaN", NaN],
  ['"1"', "1"],
  ["QUORUM_RESTART without a quorum source", sam.RecoveryPolicy.QUORUM_RESTART],
];
const badSignals: [string, unknown][] = [
  ['"SIGFOO"', "SIGFOO"],
  ['""', ""],
  ["15", 15],
  ["null", null],
  ['"sigterm"', "sigterm"],
];
// deno-lint-ignore no-explicit-any
const any = (x: unknown) => x as any;

// Not initialized: every call but initialize() is in the wrong state.
await row("register() before initialize -> BAD_HANDLE", () => sam.register(), BAD);
await row("start() before initialize -> BAD_HANDLE", () => sam.start(), BAD);
await row("stop() before initialize -> BAD_HANDLE", () => sam.stop(), BAD);
await row("hcSend() before initialize -> BAD_HANDLE", () => sam.hcSend(), BAD);
await row("dataStore(bytes) before initialize -> BAD_HANDLE", () => sam.dataStore(stored), BAD);
await row("dataStore(null) before initialize -> BAD_HANDLE", () => sam.dataStore(null), BAD);
await row("dataGetsize() before initialize -> BAD_HANDLE", () => sam.dataGetsize(), BAD);
await row("dataRestore() before initialize -> BAD_HANDLE", () => sam.dataRestore(), BAD);
await row(
  "warnSignalSet() before initialize -> BAD_HANDLE",
  () => sam.warnSignalSet("SIGTERM"),
  BAD,
);
await row("markFailed() before initialize -> BAD_HANDLE", () => sam.markFailed(), BAD);
await row("finalize() before initialize -> BAD_HANDLE", () => sam.finalize(), BAD);
await row(
  "hcCallbackRegister() before initialize -> BAD_HANDLE",
  () => sam.hcCallbackRegister(fn),
  BAD,
);
for (const [label, value] of badIntervals) {
  await row(
    `initialize(${label}, RESTART) -> INVALID_PARAM`,
    () => sam.initialize(any(value), 2),
    INVALID,
  );
}
for (const [label, value] of badPolicies) {
  await row(
    `initialize(100, ${label}) -> INVALID_PARAM`,
    () => sam.initialize(100, any(value)),
    INVALID,
  );
}
for (
  const [label, value] of [["-1", -1], ["NaN", NaN], ["1.5", 1.5], ['"1"', "1"], [
    "2 ** 40",
    2 ** 40,
  ]]
) {
  await row(
    `initialize(100, RESTART, { maxDataSize: ${label} }) -> INVALID_PARAM`,
    () => sam.initialize(100, 2, { maxDataSize: any(value) }),
    INVALID,
  );
}
await row(
  'initialize(100, RESTART, "options") -> INVALID_PARAM',
  () => sam.initialize(100, 2, any("options")),
  INVALID,
);
await row(
  "initialize(100, QUORUM_RESTART, { quorum: {} }) -> INVALID_PARAM",
  () => sam.initialize(100, sam.RecoveryPolicy.QUORUM_RESTART, { quorum: any({}) }),
  INVALID,
);
for (const [label, value] of [...badSignals, ['"SIGKILL"', "SIGKILL"]]) {
  await row(
    `addSignalListener(${label}, fn) -> INVALID_PARAM`,
    () => sam.addSignalListener(any(value), fn),
    INVALID,
  );
}
await row(
  'addSignalListener("SIGUSR1", "fn") -> INVALID_PARAM',
  () => sam.addSignalListener("SIGUSR1", any("fn")),
  INVALID,
);
await row(
  'removeSignalListener("SIGFOO", fn) -> INVALID_PARAM',
  () => sam.removeSignalListener("SIGFOO", fn),
  INVALID,
);

// Initialized.
sam.initialize(0, sam.RecoveryPolicy.RESTART, { maxDataSize: 1024 });
sam.dataStore(stored);
checkStored = true;
await row("initialize() twice -> BAD_HANDLE", () => sam.initialize(0, 2), BAD);
await row("start() before register -> BAD_HANDLE", () => sam.start(), BAD);
await row("stop() before register -> BAD_HANDLE", () => sam.stop(), BAD);
await row("hcSend() before register -> BAD_HANDLE", () => sam.hcSend(), BAD);
await row("markFailed() before register -> BAD_HANDLE", () => sam.markFailed(), BAD);
await row(
  "hcCallbackRegister(fn) before register -> BAD_HANDLE",
  () => sam.hcCallbackRegister(fn),
  BAD,
);
for (const [label, value] of notBytes) {
  await row(`dataStore(${label}) -> INVALID_PARAM`, () => sam.dataStore(any(value)), INVALID);
}
await row(
  "dataStore(1025 bytes), maxDataSize 1024 -> NO_MEMORY",
  () => sam.dataStore(new Uint8Array(1025)),
  NO_MEMORY,
);
await row(
  "dataStore(ArrayBuffer of 4096) -> NO_MEMORY",
  () => sam.dataStore(new ArrayBuffer(4096)),
  NO_MEMORY,
);
for (
  const [label, value] of [['"x"', "x"], ["[]", []], ["a Uint16Array", new Uint16Array(10)], [
    "null",
    null,
  ], ["42", 42]]
) {
  await row(`dataRestore(${label}) -> INVALID_PARAM`, () => sam.dataRestore(any(value)), INVALID);
}
await row(
  "dataRestore(4 bytes) with 5 stored -> INVALID_PARAM",
  () => sam.dataRestore(new Uint8Array(4)),
  INVALID,
);
for (const [label, value] of badSignals) {
  await row(
    `warnSignalSet(${label}) -> INVALID_PARAM`,
    () => sam.warnSignalSet(any(value)),
    INVALID,
  );
}
if (isMainThread) console.log(`main rows ${rows} failures ${failures}`);

const iid = await sam.register();
counting = true;
rows = 0;
checkStored = iid === 1;
await row("register() twice -> BAD_HANDLE", () => sam.register(), BAD);
await row("stop() before start -> BAD_HANDLE", () => sam.stop(), BAD);
await row("hcSend() before start -> BAD_HANDLE", () => sam.hcSend(), BAD);
await row("markFailed() without CMAP -> INVALID_PARAM", () => sam.markFailed(), INVALID);
await row(
  "hcCallbackRegister(fn) with interval 0 -> INVALID_PARAM",
  () => sam.hcCallbackRegister(fn),
  INVALID,
);
await row("initialize() after register -> BAD_HANDLE", () => sam.initialize(0, 2), BAD);
for (const [label, value] of notBytes) {
  await row(
    `instance dataStore(${label}) -> INVALID_PARAM`,
    () => sam.dataStore(any(value)),
    INVALID,
  );
}
await row(
  "instance dataStore(1025 bytes) -> NO_MEMORY",
  () => sam.dataStore(new Uint8Array(1025)),
  NO_MEMORY,
);
await row(
  "instance dataRestore(4 bytes) -> INVALID_PARAM",
  () => sam.dataRestore(new Uint8Array(4)),
  INVALID,
);
await row(
  'instance warnSignalSet("SIGFOO") -> INVALID_PARAM',
  () => sam.warnSignalSet("SIGFOO"),
  INVALID,
);
await row("start() -> ok", () => sam.start(), sam.CsError.CS_OK);
await row("start() twice -> BAD_HANDLE", () => sam.start(), BAD);
await row(
  "hcCallbackRegister(fn) after start -> BAD_HANDLE",
  () => sam.hcCallbackRegister(fn),
  BAD,
);
checkStored = false;
await row("finalize() -> ok", () => sam.finalize(), sam.CsError.CS_OK);
await row("finalize() twice -> BAD_HANDLE", () => sam.finalize(), BAD);
await row("dataStore() after finalize -> BAD_HANDLE", () => sam.dataStore(stored), BAD);
await row("dataGetsize() after finalize -> BAD_HANDLE", () => sam.dataGetsize(), BAD);
await row("dataRestore() after finalize -> BAD_HANDLE", () => sam.dataRestore(), BAD);
await row("warnSignalSet() after finalize -> BAD_HANDLE", () => sam.warnSignalSet("SIGTERM"), BAD);
await row("initialize() after finalize -> BAD_HANDLE", () => sam.initialize(0, 2), BAD);
console.log(`instance rows ${rows} failures ${failures}`);
