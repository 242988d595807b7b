// The instance's side of start(), stop() and the health-check callback: what the libsam calls
// do to the instance block once the instance acts for real.
import { api, State } from "./handle.ts";
import {
  HC_STARTED,
  HC_STOPPED,
  HC_WAITING_QUORUM,
  INST_ACK,
  INST_HC_COUNT,
} from "../shared_memory/layout.ts";
import { INST_HC_STATE, INST_QUORATE } from "../shared_memory/layout.ts";
import { _until, publishChange, sendHealthCheck, waitForAck } from "../shared_memory/protocol.ts";
import { RecoveryPolicy } from "../policy.ts";

/** How long stop() waits for the supervisor to write the state record. */
const ACK_WAIT_MS = 1000;

/** The instance block once started, kept at hand for hcSend(). */
export let hcBlock: Int32Array | undefined;
let hcTimers: ReturnType<typeof setInterval>[] = [];

/** Starts health checking; waits for quorum first under a QUORUM policy. */
export async function startHealthChecks(block: Int32Array): Promise<void> {
  // Bun does not count a pending waitAsync as work, and would end the instance as idle.
  const keepAlive = setInterval(() => {}, 2 ** 30);
  try {
    if (
      (api.recoveryPolicy & RecoveryPolicy.QUORUM) && Atomics.load(block, INST_QUORATE) !== 1
    ) {
      // libsam's sam_start blocks until quorate; here the wait is asynchronous.
      publishChange(block, INST_HC_STATE, HC_WAITING_QUORUM);
      await _until(block, INST_QUORATE, (quorate) => quorate === 1);
    }
    Atomics.add(block, INST_HC_COUNT, 1); // start() counts as a health check
    const seq = publishChange(block, INST_HC_STATE, HC_STARTED);
    hcBlock = block;
    api.state = State.STARTED;
    if (api.hcCallback !== null) startCallbackChecks(block);
    // As in libsam, the state record says "running" once start() returns.
    if (api.recoveryPolicy & RecoveryPolicy.CMAP) {
      await _until(block, INST_ACK, (ack) => ack - seq >= 0);
    }
  } finally {
    clearInterval(keepAlive);
  }
}

/** Stops health checking; the record says "stopped" once this returns. */
export function stopHealthChecks(block: Int32Array): void {
  stopCallbackChecks();
  const seq = publishChange(block, INST_HC_STATE, HC_STOPPED);
  api.state = State.REGISTERED;
  if (api.recoveryPolicy & RecoveryPolicy.CMAP) waitForAck(block, seq, ACK_WAIT_MS);
}

function startCallbackChecks(block: Int32Array): void {
  const send = () => sendHealthCheck(block);
  const ask = async () => {
    const cb = api.hcCallback;
    if (cb === null) return;
    let healthy = false;
    try {
      const answer = await cb();
      healthy = answer === 0 || answer === true;
    } catch {
      healthy = false;
    }
    // The first unhealthy answer stops the checks, so that the deadline passes and recovery follows.
    if (!healthy && Atomics.load(block, INST_HC_STATE) === HC_STARTED) stopCallbackChecks();
  };
  const quarter = Math.max(1, api.timeInterval / 4);
  hcTimers = [setInterval(send, quarter), setInterval(ask, Math.max(1, api.timeInterval))];
}

/** Stops the callback's checks, if any. */
function stopCallbackChecks(): void {
  for (const t of hcTimers) clearInterval(t);
  hcTimers = [];
}
