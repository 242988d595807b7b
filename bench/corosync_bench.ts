// Costs of the corosync binding against a corosync of its own (tests/harness/corosync.ts), printed
// as JSON: one cmap_set_uint64 of last_updated, and a quorum change seen as a "change" event
// (from the libcmap set of quorum.expected_votes to the event, in the same process).
// Run as root: deno run --allow-all bench/corosync_bench.ts, or bun bench/corosync_bench.ts.
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtimeName, scriptArgs } from "../tests/harness/runtime.ts";

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function inside(): Promise<void> {
  const { readClockMonotonic } = await import("../platform/clock.ts");
  const { openCmap } = await import("../corosync/cmap.ts");
  const { CorosyncQuorum } = await import("../corosync/quorum.ts");
  const cmap = openCmap();
  const key = `resources.process.${process.pid}.last_updated`;
  const writes: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t = performance.now();
    cmap.setUint64(key, readClockMonotonic());
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
  const sam = await _samFigures(openCmap);
  console.log(JSON.stringify({
    ...sam,
    runtime: runtimeName,
    quorum_wake: quorum.wakeMode,
    cmap_record_write_us: Number(median(writes).toFixed(2)),
    cmap_record_write_us_p99: Number(writes.sort((a, b) => a - b)[1979].toFixed(2)),
    quorum_change_to_event_ms: Number(median(changes).toFixed(3)),
    quorum_change_to_event_ms_max: Number(Math.max(...changes).toFixed(3)),
  }));
}

/**
 * sam's own figures: one write of the record's last_updated through the cmap sink, and the
 * time from a quorum loss (expected_votes set through libcmap) to the instance's warning.
 */
async function _samFigures(openCmap: typeof import("../corosync/cmap.ts").openCmap) {
  const { cmapSink } = await import("../corosync/cmap_sink.ts");
  const { readClockMonotonic } = await import("../platform/clock.ts");
  const sink = cmapSink(openCmap(), { quorum: false, prefix: `sam.bench.${process.pid}.` });
  const record = {
    recovery: "restart" as const,
    pollPeriod: 1000,
    lastUpdated: 0,
    state: "running" as const,
    touched: false,
  };
  sink.write(record, true);
  const writes: number[] = [];
  for (let i = 0; i < 2000; i++) {
    record.lastUpdated = Number(readClockMonotonic());
    const t = performance.now();
    sink.write(record, false);
    writes.push((performance.now() - t) * 1000);
  }
  sink.remove();
  sink.close?.();
  const { RecoveryPolicy, supervise } = await import("../mod.ts");
  const setter = openCmap();
  const votes = (n: number) => setter.setUint32("quorum.expected_votes", n);
  votes(1);
  const supervisor = supervise(new URL("../tests/testdata/cluster_app.ts", import.meta.url), {
    timeInterval: 200,
    recoveryPolicy: RecoveryPolicy.QUORUM_RESTART | RecoveryPolicy.CMAP,
    corosyncRecord: "required",
  });
  const next = (type: string, want: (detail: any) => boolean = () => true) =>
    new Promise<void>((resolve) => {
      const on = (e: Event) => {
        if (!want((e as CustomEvent).detail)) return;
        supervisor.removeEventListener(type, on);
        resolve();
      };
      supervisor.addEventListener(type, on);
    });
  const warnings: number[] = [];
  for (let i = 0; i < 10; i++) {
    if (supervisor.status.state !== "running") {
      await next("status", (d) => d.status.state === "running");
    }
    const warned = next("warning");
    const t = performance.now();
    votes(2);
    await warned;
    warnings.push(performance.now() - t);
    const waiting = next("status", (d) => d.status.state === "waiting for quorum");
    await waiting;
    votes(1);
  }
  await supervisor.stop();
  setter.close();
  return {
    sam_record_write_us: Number(median(writes).toFixed(2)),
    sam_record_write_us_p99: Number(writes.sort((a, b) => a - b)[1979].toFixed(2)),
    quorum_change_to_warning_ms: Number(median(warnings).toFixed(3)),
    quorum_change_to_warning_ms_max: Number(Math.max(...warnings).toFixed(3)),
  };
}

if (process.argv.includes("--inside")) {
  await inside();
} else {
  const { startCorosync } = await import("../tests/harness/corosync.ts");
  await using cluster = await startCorosync();
  const script = fileURLToPath(import.meta.url);
  const app = cluster.run([process.execPath, ...scriptArgs(script), "--inside"]);
  const code = await app.exited;
  if (code !== 0) throw new Error(`bench failed (${code}): ${app.stderr()}`);
  console.log(app.lines.at(-1));
}
