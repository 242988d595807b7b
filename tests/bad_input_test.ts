import { test } from "node:test";
import assert from "node:assert/strict";
import { runApp } from "./_helpers.ts";

test("every export refuses bad input and wrong states with libsam's code, changing nothing stored", async () => {
  const r = await runApp("bad_input.ts");
  const failed = r.lines.filter((l) => l.startsWith("FAIL"));
  assert.deepEqual(failed, []);
  assert.deepEqual(r.lines, ["main rows 74 failures 0", "instance rows 27 failures 0"]);
  assert.equal(r.code, 0, r.stderr);
});
