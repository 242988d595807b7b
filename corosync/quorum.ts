// corosync's quorum service (libquorum) as a QuorumSource: no JavaScript callback into the
// library (its dispatch keeps a large stack), the fd only tells when to look.
import { Worker } from "node:worker_threads";
import {
  check,
  CS_DISPATCH_ALL,
  CS_TRACK_CHANGES,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  POLLIN,
  type QuorumLib,
  quorumLib,
} from "./libraries.ts";
import { CsError, SamError } from "../errors.ts";
import { ffiAvailable, ffiNonblocking, ffiUnrefSupported } from "../platform/ffi.ts";
import { type Libc, libc } from "../platform/libc.ts";
import { ownModule } from "../platform/runtime.ts";
import { unrefTimer } from "../platform/timers.ts";
import type { QuorumSource } from "../options.ts";

/** How a corosync quorum source learns of news without blocking the event loop. */
export type CorosyncQuorumWake = "poll" | "worker" | "timer";

/** Options of {@linkcode corosyncQuorum}. */
export interface CorosyncQuorumOptions {
  /**
   * `"poll"`: a nonblocking FFI `poll` on libquorum's fd (Deno); `"worker"`: a Worker
   * blocking in `poll` (Bun); `"timer"`: a look every `timerMs`.
   * @default {"poll" on Deno, "worker" on Bun}
   */
  wake?: CorosyncQuorumWake;
  /**
   * Period of the `"timer"` mode, in ms.
   * @default {10}
   */
  timerMs?: number;
}

// The Worker of the "worker" mode: it blocks in poll on the quorum fd and the eventfd, says
// "ready" when the quorum fd is readable, and waits until the main thread has dispatched
// (so that it does not spin on a fd that stays readable), or ends when told to stop. The main
// thread owns both descriptors and closes the eventfd when the Worker says "done".
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
(async () => {
  const libc = (await import(workerData.libcUrl)).libc();
  const flag = new Int32Array(workerData.flag);
  const fds = new Int32Array([workerData.quorumFd, 1, workerData.eventFd, 1]);
  for (;;) {
    fds[1] = 1; fds[3] = 1;
    const n = libc.poll(fds, 2, -1);
    if (Atomics.load(flag, 0) === 2 || (n > 0 && (fds[3] >>> 16) !== 0)) break;
    if (n <= 0) continue;
    Atomics.store(flag, 0, 0);
    parentPort.postMessage(fds[1] >>> 16);
    Atomics.wait(flag, 0, 0);
    if (Atomics.load(flag, 0) === 2) break;
  }
  parentPort.postMessage("done");
})();
`;

/**
 * corosync's quorum (libquorum) as a {@linkcode QuorumSource}: `quorate` is corosync's
 * answer, and a `"change"` event comes when it flips, within about a millisecond of
 * corosync's notification. Waiting never blocks the event loop and never keeps a program
 * alive that has nothing else to do.
 *
 * When corosync goes away, `quorate` turns false (with a `"change"` if it was true),
 * `connected` turns false, and a `"disconnect"` event comes, a `CustomEvent` whose `detail` is
 * the SamError that told (`CS_ERR_LIBRARY`); the source is then dead. Open
 * a new one once corosync is back.
 *
 * No JavaScript callback is handed to libquorum: its dispatch keeps a large buffer on the
 * stack, which overflows Deno's stack in a callback. The fd only says when to look, and
 * `quorum_getquorate` gives the answer.
 */
export class CorosyncQuorum extends EventTarget implements QuorumSource {
  #lib: QuorumLib;
  #libc: Libc;
  #handle: bigint;
  #quorumFd: number;
  #eventFd = -1;
  #quorate: boolean;
  #connected = true;
  #closed = false;
  #flag = new Int32Array(new SharedArrayBuffer(4));
  #fds = new Int32Array(4);
  #out = new Int32Array(1);
  #timer: ReturnType<typeof setInterval> | undefined;
  #signaled = false;
  /** How this source waits for news from corosync. */
  readonly wakeMode: CorosyncQuorumWake;

  private constructor(
    lib: QuorumLib,
    libc: Libc,
    handle: bigint,
    quorumFd: number,
    mode: CorosyncQuorumWake,
  ) {
    super();
    this.#lib = lib;
    this.#libc = libc;
    this.#handle = handle;
    this.#quorumFd = quorumFd;
    this.wakeMode = mode;
    this.#quorate = this.#getQuorate();
  }

  /**
   * Connects to corosync's quorum service and starts following changes.
   *
   * @param options How to wait for news; the default suits the runtime.
   * @returns A quorum source that knows the current quorum.
   * @throws {SamError} `CS_ERR_LIBRARY` when FFI is unavailable, libquorum is not installed
   *   or corosync's quorum service cannot be reached; another corosync code when one of
   *   `quorum_initialize`, `quorum_trackstart`, `quorum_fd_get`, `quorum_getquorate` fails.
   */
  static open(options: CorosyncQuorumOptions = {}): CorosyncQuorum {
    if (!ffiAvailable()) {
      throw new SamError(CsError.CS_ERR_LIBRARY, "FFI is unavailable for corosync's quorum");
    }
    const lib = quorumLib();
    const c = libc();
    const handle = new BigUint64Array(1);
    const type = new Uint32Array(1);
    // quorum_callbacks_t with a NULL quorum_notify_fn.
    const callbacks = new BigUint64Array(1);
    check(lib.quorum_initialize(handle, callbacks, type), "quorum_initialize", "quorum");
    const h = handle[0];
    let source: CorosyncQuorum | undefined;
    try {
      check(lib.quorum_trackstart(h, CS_TRACK_CHANGES), "quorum_trackstart", "quorum");
      const fd = new Int32Array(1);
      check(lib.quorum_fd_get(h, fd), "quorum_fd_get", "quorum");
      const mode = options.wake ?? (ffiNonblocking() && ffiUnrefSupported() ? "poll" : "worker");
      source = new CorosyncQuorum(lib, c, h, fd[0], mode);
      source.#start(options.timerMs ?? 10);
      return source;
    } catch (error) {
      if (source) source.close();
      else lib.quorum_finalize(h);
      throw error;
    }
  }

  /** Whether corosync says the cluster is quorate (false once disconnected). */
  get quorate(): boolean {
    return this.#quorate;
  }

  /** False once corosync went away or after close(). */
  get connected(): boolean {
    return this.#connected;
  }

  #getQuorate(): boolean {
    const result = this.#lib.quorum_getquorate(this.#handle, this.#out);
    check(result, "quorum_getquorate", "quorum");
    return this.#out[0] !== 0;
  }

  #start(timerMs: number): void {
    if (this.wakeMode === "timer") {
      this.#timer = setInterval(() => this.#check(0), timerMs);
      unrefTimer(this.#timer);
      return;
    }
    this.#eventFd = this.#libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (this.#eventFd < 0) {
      throw new SamError(CsError.CS_ERR_LIBRARY, "eventfd failed for quorum");
    }
    if (this.wakeMode === "poll") {
      this.#pollNonblocking();
      return;
    }
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        libcUrl: ownModule("../platform/libc", import.meta.url).href,
        flag: this.#flag.buffer,
        quorumFd: this.#quorumFd,
        eventFd: this.#eventFd,
      },
    });
    worker.on("message", (revents: unknown) => {
      if (revents === "done") return this.#closeEventFd();
      if (typeof revents !== "number" || this.#closed) return;
      this.#check(revents);
      if (this.#closed) return;
      Atomics.store(this.#flag, 0, 1);
      Atomics.notify(this.#flag, 0);
    });
    worker.on("error", () => {
      // A Worker that cannot run: fall back to looking every few ms.
      if (this.#closed || this.#timer) return;
      this.#timer = setInterval(() => this.#check(0), timerMs);
      unrefTimer(this.#timer);
    });
    // After the listeners: on Bun, adding a "message" listener refs the Worker again.
    worker.unref();
  }

  #pollNonblocking(): void {
    const fds = this.#fds;
    fds.set([this.#quorumFd, POLLIN, this.#eventFd, POLLIN]);
    const pending = this.#libc.poll_nonblocking(fds, 2, -1) as Promise<number>;
    // Bound with unref: the pending poll does not keep a program alive that is done.
    pending.then((n) => {
      if (!this.#closed && (fds[3] >>> 16) === 0 && n > 0) this.#check(fds[1] >>> 16);
      if (this.#closed || !this.#connected) this.#closeEventFd();
      else this.#pollNonblocking();
    });
  }

  // Called when the quorum fd may have news (revents), or by the timer (0: look anyway).
  #check(revents: number): void {
    if (this.#closed || !this.#connected) return;
    if (revents === 0) {
      this.#fds.set([this.#quorumFd, POLLIN, -1, 0]);
      if (this.#libc.poll(this.#fds, 1, 0) <= 0) return;
    }
    const result = this.#lib.quorum_dispatch(this.#handle, CS_DISPATCH_ALL);
    let quorate: boolean;
    try {
      check(result, "quorum_dispatch", "quorum");
      quorate = this.#getQuorate();
    } catch (error) {
      this.#disconnect(error as SamError);
      return;
    }
    if (quorate !== this.#quorate) {
      this.#quorate = quorate;
      this.dispatchEvent(new Event("change"));
    }
  }

  #disconnect(error: SamError): void {
    this.#connected = false;
    this.#stopWaiting();
    const was = this.#quorate;
    this.#quorate = false;
    if (was) this.dispatchEvent(new Event("change"));
    this.dispatchEvent(new CustomEvent("disconnect", { detail: error }));
  }

  #stopWaiting(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    Atomics.store(this.#flag, 0, 2);
    Atomics.notify(this.#flag, 0);
    if (this.#eventFd >= 0 && !this.#signaled) {
      // Wakes the pending poll; the eventfd is closed once the waiter has seen it.
      this.#signaled = true;
      this.#libc.write(this.#eventFd, new BigUint64Array([1n]), 8);
    }
  }

  #closeEventFd(): void {
    if (this.#eventFd < 0) return;
    this.#libc.close(this.#eventFd);
    this.#eventFd = -1;
  }

  /**
   * Stops following corosync's quorum and disconnects (`quorum_finalize`). No event comes
   * afterwards; `quorate` keeps its last value.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopWaiting();
    this.#connected = false;
    this.#lib.quorum_finalize(this.#handle);
  }
}
