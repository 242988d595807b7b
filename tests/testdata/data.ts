// libsam's test4: dataStore, dataGetsize and dataRestore with all of their error paths.
import { isMainThread } from "node:worker_threads";
import * as sam from "../../mod.ts";

// Before register() an instance replays the main thread's calls, which store nothing; only
// the main thread's pass through them is checked, and every instance's pass after register().
let counting = isMainThread;

let failures = 0;
function expect(what: string, f: () => unknown, want: number | "ok"): void {
  let got: number | string = "ok";
  try {
    f();
  } catch (e) {
    got = e instanceof sam.SamError ? e.code : String(e);
  }
  if (counting && got !== want) {
    failures++;
    console.log(`FAIL ${what}: got ${got}, want ${want}`);
  }
}
function check(what: string, ok: boolean): void {
  if (counting && !ok) {
    failures++;
    console.log(`FAIL ${what}`);
  }
}
const { BAD_HANDLE, INVALID_PARAM, NO_MEMORY } = {
  BAD_HANDLE: sam.CsError.CS_ERR_BAD_HANDLE,
  INVALID_PARAM: sam.CsError.CS_ERR_INVALID_PARAM,
  NO_MEMORY: sam.CsError.CS_ERR_NO_MEMORY,
};
const saved = Uint8Array.from({ length: 128 }, (_, i) => (i + 5) & 0xff);

expect("getsize before initialize", () => sam.dataGetsize(), BAD_HANDLE);
expect("store before initialize", () => sam.dataStore(null), BAD_HANDLE);
expect("restore before initialize", () => sam.dataRestore(new Uint8Array(128)), BAD_HANDLE);
expect("restore into a string", () => sam.dataRestore("x" as unknown as Uint8Array), INVALID_PARAM);

sam.initialize(0, sam.RecoveryPolicy.RESTART, { maxDataSize: 1024 });
check("size 0 after initialize", sam.dataGetsize() === 0);
expect("store a string", () => sam.dataStore("abc" as unknown as Uint8Array), INVALID_PARAM);
expect("store a number", () => sam.dataStore(42 as unknown as Uint8Array), INVALID_PARAM);
expect("store undefined", () => sam.dataStore(undefined as unknown as Uint8Array), INVALID_PARAM);
expect("store a plain array", () => sam.dataStore([1, 2] as unknown as Uint8Array), INVALID_PARAM);
expect(
  "restore into a plain array",
  () => sam.dataRestore([] as unknown as Uint8Array),
  INVALID_PARAM,
);
expect("store real data", () => sam.dataStore(saved), "ok");
check("size 128", sam.dataGetsize() === 128);
expect("restore into 127 bytes", () => sam.dataRestore(new Uint8Array(127)), INVALID_PARAM);
const into = new Uint8Array(200);
const view = sam.dataRestore(into);
check("restore gives a view of into", view.buffer === into.buffer && view.length === 128);
check("restored bytes equal", view.every((b, i) => b === saved[i]));
expect("store more than maxDataSize", () => sam.dataStore(new Uint8Array(1025)), NO_MEMORY);
check("old data intact after NO_MEMORY", sam.dataGetsize() === 128 && sam.dataRestore()[0] === 5);
expect("store null deletes", () => sam.dataStore(null), "ok");
check("size 0 after delete", sam.dataGetsize() === 0);
check("restore of nothing is empty", sam.dataRestore().length === 0);
expect("store a DataView", () => sam.dataStore(new DataView(saved.buffer)), "ok");
expect("store an ArrayBuffer", () => sam.dataStore(saved.slice().buffer), "ok");
check("ArrayBuffer stored", sam.dataGetsize() === 128);

const iid = await sam.register();
counting = true;
console.log(`iid ${iid}`);
if (iid === 1) {
  await sam.start();
  check("instance 1 size 128", sam.dataGetsize() === 128);
  check(
    "instance 1 restores the main thread's data",
    sam.dataRestore().every((b, i) => b === saved[i]),
  );
  const next = Uint8Array.from({ length: 128 }, (_, i) => (i - 5) & 0xff);
  sam.dataStore(next.subarray(0, 121));
  console.log(`failures ${failures}`);
  process.exit(1);
} else if (iid === 2) {
  await sam.start();
  check("instance 2 size 121", sam.dataGetsize() === 121);
  const back = sam.dataRestore(new Uint8Array(128));
  check("instance 2 restores instance 1's data", back.every((b, i) => b === ((i - 5) & 0xff)));
  sam.dataStore(null);
  console.log(`failures ${failures}`);
  process.exit(1);
} else if (iid === 3) {
  check("instance 3 size 0", sam.dataGetsize() === 0);
  console.log(`failures ${failures}`);
}
