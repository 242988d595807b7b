// Costs of the corosync binding against a corosync of its own (tests/_corosync.ts), printed
// as JSON: one cmap_set_uint64 of last_updated, and a quorum change seen as a "change" event
// (from the libcmap set of quorum.expected_votes to the event, in the same process).
// Run as root: deno run --allow-all bench/corosync_bench.ts, or bun bench/corosync_bench.ts.
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtime } from "../_runtime.ts";

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function inside(): Promise<void> {
  const { CorosyncQuorum, monotonicNs, openCmap } = await import("../_corosync.ts");
  const cmap = openCmap();
  const key = `resources.process.${process.pid}.last_updated`;
  const writes: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t = performance.now();
    cmap.setUint64(key, monotonicNs());
    writes.push((performance.now() - t) * 1000);
  }
  const quorum = CorosyncQuorum.open();
  const changes: number[] = [];
  for (let i = 0; i < 20; i++) {
    const want = !quorum.quorate;
    const seen = new Promise<void>((resolve) =>
      quorum.addEventListener("change", () => resolve(), { once: true })
    );
    const t = performance.now();
    cmap.setUint32("quorum.expected_votes", want ? 1 : 2);
    await seen;
    changes.push(performance.now() - t);
  }
  quorum.close();
  cmap.close();
  console.log(JSON.stringify({
    runtime: runtime.name,
    quorum_wake: quorum.wakeMode,
    cmap_record_write_us: Number(median(writes).toFixed(2)),
    cmap_record_write_us_p99: Number(writes.sort((a, b) => a - b)[1979].toFixed(2)),
    quorum_change_to_event_ms: Number(median(changes).toFixed(3)),
    quorum_change_to_event_ms_max: Number(Math.max(...changes).toFixed(3)),
  }));
}

if (process.argv.includes("--inside")) {
  await inside();
} else {
  const { startCorosync } = await import("../tests/_corosync.ts");
  await using cluster = await startCorosync();
  const script = fileURLToPath(import.meta.url);
  const app = cluster.run([process.execPath, ...runtime.scriptArgs(script), "--inside"]);
  const code = await app.exited;
  if (code !== 0) throw new Error(`bench failed (${code}): ${app.stderr()}`);
  console.log(app.lines.at(-1));
}
