// The supervisor's log: one line per recovery step, saying which instance and why, so that
// an operator can tell from a service's stderr why it restarted.
import process from "node:process";
import type { SupervisorEventDetails, SupervisorEventMap } from "../events.ts";
import type { SamOptions } from "../options.ts";

type Details = SupervisorEventDetails;

/** How the engine tells its events. */
export type Emit = <K extends keyof Details>(type: K, detail: Details[K]) => void;

const SIGNALLED: Record<number, string> = { 130: "SIGINT", 137: "SIGKILL", 143: "SIGTERM" };

/** How an exit code reads: "code 1", or "code 143 (SIGTERM)" for a signal's. */
function codeText(code: number): string {
  return SIGNALLED[code] ? `code ${code} (${SIGNALLED[code]})` : `code ${code}`;
}

/** The log line for an event, or null for events that are no recovery step. */
export function logLine<K extends keyof Details>(type: K, detail: Details[K]): string | null {
  const d = detail as Record<string, unknown>;
  switch (type) {
    case "late":
      return `instance ${d.id} missed its health-check deadline`;
    case "warning":
      return `instance ${d.id} warned with ${d.signal}`;
    case "terminated":
      return `instance ${d.id} terminated, ${codeText(d.code as number)}`;
    case "exit":
      return `instance ${d.id} ended with ${codeText(d.code as number)}`;
    case "restart":
      return `instance ${d.id} starts (a restart)`;
    case "stuck-thread":
      return `instance ${d.id}'s thread did not stop when terminated (${
        d.spinning ? "spinning" : "asleep"
      })`;
    case "handover":
      return `instance ${d.id} starts in a new image of this process (${d.kind})`;
    case "corrupt":
      return `instance ${d.id} broke the stored data's header: the data is gone`;
    case "standby":
      return `the standby for instance ${d.id} is not used (${d.reason})`;
    case "reload":
      return d.outcome === "begun"
        ? `instance ${d.id} starts from the program's files beside instance ${d.replaced} (a reload)`
        : d.outcome === "took-over"
        ? `instance ${d.id} took over from instance ${d.replaced} (reloaded)`
        : `reload failed: instance ${d.id} ${
          d.reason === "ended"
            ? `ended with ${codeText(d.code as number)}`
            : d.reason === "timeout"
            ? "did not call start() in time"
            : `was ended (${d.reason})`
        } before start(); instance ${d.replaced} serves on`;
    case "quorum":
      return d.quorate ? "quorum regained" : "quorum lost";
    case "end":
      return `supervision ended (${d.reason}), ${codeText(d.code as number)}`;
    default:
      return null;
  }
}

/** Where log lines go: stderr, with the program's pid, as a service manager collects it. */
export function stderrLog(line: string): void {
  process.stderr.write(`sam[${process.pid}]: ${line}\n`);
}

/**
 * Where the supervisor's events go: a line to its log (as `options.log` says), then
 * `options.onEvent`, then the listeners of `target` (a Supervisor; none on the main thread).
 */
export function dispatcher(options: SamOptions, target: EventTarget | null): Emit {
  return (type, detail) => {
    const { log, onEvent } = options;
    const sink = log === true ? stderrLog : typeof log === "function" ? log : null;
    if (sink !== null) {
      const line = logLine(type, detail);
      if (line !== null) sink(line);
    }
    const event = new CustomEvent(type, { detail });
    onEvent?.(event as SupervisorEventMap[typeof type]);
    target?.dispatchEvent(event);
  };
}
