// A web Worker for the message baseline of sam_bench.ts: it says "ready" as soon as it runs,
// then acknowledges every message with its byte length.
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<Uint8Array>) => void) | null;
  postMessage(message: unknown): void;
};
scope.onmessage = (event) => scope.postMessage(event.data.byteLength);
scope.postMessage("ready");
