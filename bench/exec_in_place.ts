// Times the hand-over by execve in place on the runtime running this script: from the call of
// execInPlace() in tests/testdata/exec_stuck.ts to the first line of the new image, and
// takeHandOver() alone, for payloads of 1 MiB and 64 MiB. Prints one JSON line per size with
// the median and the range over the runs, after a plain start of the same program to its first
// line for comparison.
//   deno run --allow-all bench/exec_in_place.ts [runs]
//   bun bench/exec_in_place.ts [runs]
import { spawnSync } from "node:child_process";
import process from "node:process";
import { command } from "../tests/harness/helpers.ts";

const runs = Number(process.argv[2] ?? 7);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number) => Math.round(x * 10) / 10;
const [executable, ...args] = command("exec_stuck.ts");
const name = process.versions.bun ? `bun ${process.versions.bun}` : `deno ${process.versions.deno}`;
const now = () => performance.timeOrigin + performance.now();
const baseline: number[] = [];
for (let i = 0; i < runs; i++) {
  const startedAt = now();
  const r = spawnSync(executable, args, {
    env: { ...process.env, EXEC_BASELINE: "1" },
    encoding: "utf8",
  });
  baseline.push(JSON.parse(r.stdout).at - startedAt);
}
const stats = (xs: number[]) => ({
  median: round(median(xs)),
  min: round(Math.min(...xs)),
  max: round(Math.max(...xs)),
});
console.log(JSON.stringify({ runtime: name, spawnToFirstLineMs: stats(baseline) }));
for (const size of [1 << 20, 64 << 20]) {
  const toFirstLine: number[] = [];
  const take: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(executable, args, {
      env: { ...process.env, EXEC_PAYLOAD: String(size) },
      encoding: "utf8",
    });
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const exec = lines.find((l) => l.exec);
    const first = lines.find((l) => l.image === 2 && l.pid);
    const check = lines.find((l) => l.image === 2 && "equal" in l);
    if (r.status !== 7 || !exec || !first || !check?.equal) {
      throw new Error(`run failed: ${r.stdout}`);
    }
    toFirstLine.push(first.at - exec.at);
    take.push(first.tookMs);
  }
  console.log(JSON.stringify({
    runtime: name,
    payloadMiB: size >> 20,
    runs,
    execToFirstLineMs: stats(toFirstLine),
    takeHandOverMs: stats(take),
  }));
}
