// The record libsam keeps in cmap under resources.process.<pid>., written as a JSON file for
// watchdogs in other processes. Written to a temporary file and renamed over the old one, so
// a reader sees the old record or the new one, never half of one.
import { renameSync, rmSync, writeFileSync } from "node:fs";
import process from "node:process";

export interface StateRecord {
  recovery: "quit" | "restart";
  pollPeriod: number;
  /** ns since the epoch. */
  lastUpdated: number;
  state: string;
}

export function writeStateRecord(path: string, record: StateRecord): void {
  const pid = process.pid;
  const prefix = `resources.process.${pid}.`;
  // last_updated is a uint64 in cmap; written as an exact integer.
  const ns = BigInt(Math.max(0, Math.round(record.lastUpdated))).toString();
  const json = `{"pid":${pid},"recovery":${JSON.stringify(record.recovery)},` +
    `"poll_period":${record.pollPeriod},"last_updated":${ns},"state":${
      JSON.stringify(record.state)
    },` +
    `"cmap":{"${prefix}recovery":${
      JSON.stringify(record.recovery)
    },"${prefix}poll_period":${record.pollPeriod},` +
    `"${prefix}last_updated":${ns},"${prefix}state":${JSON.stringify(record.state)}}}\n`;
  const temporary = `${path}.${pid}.tmp`;
  writeFileSync(temporary, json);
  renameSync(temporary, path);
}

export function removeStateRecord(path: string): void {
  rmSync(path, { force: true });
}
