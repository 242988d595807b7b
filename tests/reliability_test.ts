// Bad input for every export of mod.ts, in every state of libsam's state machine, as a fixture
// app in its own process (the libsam-style functions keep their state per process).
import { test } from "node:test";
import assert from "node:assert/strict";
import { type AppResult, runApp } from "./harness/helpers.ts";

interface Row {
  ok: boolean;
  pass: string;
  name: string;
  why: string;
}

/** The rows rel_bad_input.ts printed: "ok   <pass>: <row>" or "FAIL <pass>: <row>: <why>". */
function rowsOf(result: AppResult): Row[] {
  return result.lines.flatMap((line) => {
    const m = line.match(/^(ok {2}|FAIL) (main|replay|instance): (.+? -> CS_[A-Z_]+)(?:: (.*))?$/);
    return m ? [{ ok: m[1] === "ok  ", pass: m[2], name: m[3], why: m[4] ?? "" }] : [];
  });
}

test(
  "every export refuses wrong types, negative, NaN, infinite and huge numbers and wrong states with libsam's code, changing nothing stored",
  { timeout: 60_000 },
  async () => {
    const result = await runApp("rel_bad_input.ts");
    const rows = rowsOf(result);
    const failed = rows.filter((r) => !r.ok);
    assert.deepEqual(failed.map((r) => `${r.pass}: ${r.name}: ${r.why}`), []);
    const count = (pass: string) => rows.filter((r) => r.pass === pass).length;
    console.log(
      `bad input rows: main ${count("main")}, replay ${count("replay")}, ` +
        `instance ${count("instance")}`,
    );
    // Before register() an instance replays the main thread's calls: every one must give the
    // same code there, and store nothing.
    assert.ok(count("main") >= 200, `only ${count("main")} rows on the main thread`);
    assert.deepEqual(
      rows.filter((r) => r.pass === "replay").map((r) => r.name),
      rows.filter((r) => r.pass === "main").map((r) => r.name),
    );
    assert.ok(count("instance") >= 100, `only ${count("instance")} rows in the instance`);
    for (const pass of ["main", "replay", "instance"]) {
      assert.ok(
        result.lines.some((l) => l.startsWith(`${pass} failures `)),
        `the ${pass} pass did not finish: ${result.stderr}`,
      );
    }
    assert.equal(result.code, 0, result.stderr);
  },
);
