import { test } from "node:test";
import assert from "node:assert/strict";
import { runApp } from "./harness/helpers.ts";

test("register() stops gracefully on SIGTERM to the process: the instance is warned, then exit 143", async () => {
  const r = await runApp("graceful.ts", {}, 30_000, (line, child) => {
    if (line === "iid 1 ready") child.kill("SIGTERM");
  });
  assert.deepEqual(r.lines, ["iid 1 ready", "iid 1 warned"]);
  assert.equal(r.code, 143);
});

test("register() stops gracefully on SIGINT to the process too, and exits 130", async () => {
  const r = await runApp("graceful.ts", {}, 30_000, (line, child) => {
    if (line === "iid 1 ready") child.kill("SIGINT");
  });
  assert.deepEqual(r.lines, ["iid 1 ready", "iid 1 warned"]);
  assert.equal(r.code, 130);
});
