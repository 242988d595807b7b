// A state record sink for machines without corosync: a JSON file, replaced atomically (written
// to a temporary file and renamed over the old one, so a reader sees the old record or the new
// one, never half of one).
import { renameSync, rmSync, writeFileSync } from "node:fs";
import process from "node:process";
import type { RecordSink, StateRecord } from "./record.ts";

/** A sink writing the record as JSON to `path`; errors are reported, never thrown. */
export function fileSink(path: string): RecordSink {
  return {
    write(record: StateRecord): void {
      try {
        writeRecordFile(path, record);
      } catch (error) {
        console.error(`sam: cannot write the state file ${path}: ${error}`);
      }
    },
    remove(): void {
      try {
        rmSync(path, { force: true });
      } catch (error) {
        console.error(`sam: cannot remove the state file ${path}: ${error}`);
      }
    },
  };
}

function writeRecordFile(path: string, record: StateRecord): void {
  const pid = process.pid;
  const prefix = `resources.process.${pid}.`;
  // last_updated is a uint64 in cmap; written as an exact integer.
  const ns = BigInt(Math.max(0, Math.round(record.lastUpdated))).toString();
  const recovery = JSON.stringify(record.recovery);
  const state = JSON.stringify(record.state);
  const json = `{"pid":${pid},"recovery":${recovery},"poll_period":${record.pollPeriod},` +
    `"last_updated":${ns},"state":${state},"cmap":{"${prefix}recovery":${recovery},` +
    `"${prefix}poll_period":${record.pollPeriod},"${prefix}last_updated":${ns},` +
    `"${prefix}state":${state}}}\n`;
  const temporary = `${path}.${pid}.tmp`;
  writeFileSync(temporary, json);
  renameSync(temporary, path);
}
