// Timers that must not keep a program alive: Node's and Bun's have unref(), Deno's web timers
// are numbers that Deno.unrefTimer() takes.

/** Lets the program end while `timer` (from setTimeout or setInterval) is pending. */
export function unrefTimer(timer: unknown): void {
  const t = timer as { unref?: () => void };
  if (typeof t.unref === "function") return t.unref();
  (globalThis as { Deno?: { unrefTimer(id: number): void } }).Deno?.unrefTimer(timer as number);
}
