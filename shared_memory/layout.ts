// The shared memory layout, defined once. Two kinds of region:
//
// - The data region lives as long as the supervisor: a small Int32 header plus two data slots
//   (separate growable SharedArrayBuffers). A store copies into the slot that is not current
//   and then publishes it with one compare-and-exchange on DATA_CONTROL, so a store cut off
//   at any point leaves the previous value whole.
// - The instance block is made anew for every instance, so that nothing an instance writes
//   there after it was given up can reach the next one.

/** Int32 slots of the data header. */
export const DATA_MAGIC = 0; // DATA_MAGIC_VALUE while the header is intact
export const DATA_CONTROL = 1; // bit 30: current slot; bits 0..29: lock holder (0 = free)
export const DATA_LENGTH_0 = 2; // bytes in slot 0 (written only while slot 0 is not current)
export const DATA_LENGTH_1 = 3; // bytes in slot 1 (likewise)
export const DATA_EPOCH = 4; // id of the only instance allowed to act; others are fenced
export const DATA_GEN = 5; // bumped by every store just before it publishes (optimistic reads)
/** Number of Int32 slots in the data header. */
export const DATA_HEADER_SLOTS = 6;
/** Size of the data header in bytes. */
export const DATA_HEADER_BYTES = DATA_HEADER_SLOTS * Int32Array.BYTES_PER_ELEMENT;

export const DATA_MAGIC_VALUE = 0x53414d31; // "SAM1"
export const SLOT_BIT = 1 << 30;
export const HOLDER_MASK = SLOT_BIT - 1;
/** Lock holder id of the supervisor itself (instances count up from 1). */
export const SUPERVISOR_HOLDER = HOLDER_MASK;

/** Int32 slots of an instance block. */
export const INST_HC_STATE = 0; // HC_STOPPED, HC_STARTED or HC_WAITING_QUORUM, set by the instance
export const INST_EVENT_SEQ = 1; // bumped and notified after each change the supervisor acts on
export const INST_LISTENERS = 2; // bit n set: the instance listens for signal n
export const INST_WARN_SIGNAL = 3; // warning signal number set by warnSignalSet()
export const INST_REGISTERED = 4; // 1 once the instance's register() returned
export const INST_FLAGS = 5; // FLAG_* bits the instance raised
export const INST_QUORATE = 6; // 1 while the quorum source says quorate (always 1 without QUORUM)
export const INST_HC_COUNT = 7; // health checks sent; only ever incremented by the instance
export const INST_HC_WANT = 8; // 1: the supervisor waits to be notified of the next health check
export const INST_EXIT_CODE = 9; // the exit code, valid once FLAG_ENDED is raised
export const INST_ACK = 10; // the INST_EVENT_SEQ value the supervisor has acted on and published
export const INST_END_SEEN = 11; // 1: the supervisor has acted on FLAG_ENDED (next one started)
export const INST_ACTIVATE = 12; // ACTIVATE_*: set by the supervisor to start a waiting Worker
export const INST_ID = 13; // the instance id, valid once INST_ACTIVATE is ACTIVATE_GO
export const INST_PRERUN = 14; // PRERUN_*: how far a standby's pre-run of the application got
export const INST_REPLAY_READ = 15; // 1: a standby read the stored data before its activation
export const INST_DATA = 16; // DATA_*: whether the instance acts on the stored data yet
/** Number of Int32 slots in an instance block. */
export const INST_SLOTS = 17;
/** Size of an instance block in bytes. */
export const INST_BYTES = INST_SLOTS * Int32Array.BYTES_PER_ELEMENT;

export const ACTIVATE_WAITING = 0; // a Worker not yet activated (a standby)
export const ACTIVATE_GO = 1; // become instance INST_ID: import the application
export const ACTIVATE_LEAVE = 2; // not needed: stop waiting, the Worker is being terminated

export const PRERUN_NONE = 0; // no pre-run, or it has not reached register() yet
export const PRERUN_AT_REGISTER = 1; // the application waits in register() to be activated
export const PRERUN_FAILED = 2; // the pre-run threw, or ended without calling register()

export const DATA_GRANTED = 0; // the instance acts on the stored data (every instance but a reload's)
export const DATA_PENDING = 1; // a reload's instance: it reads, the instance it replaces stores
export const DATA_REFUSED = 2; // a reload's instance that will never take over (it is ending)

export const HC_STOPPED = 0;
export const HC_STARTED = 1;
export const HC_WAITING_QUORUM = 2; // start() is waiting for quorum
export const FLAG_MARK_FAILED = 1; // markFailed() was called
export const FLAG_ENDED = 2; // the instance's JavaScript has ended; INST_EXIT_CODE holds its code

/** Growth step of a data slot, so that small growing stores do not grow it every time. */
export const SLOT_GROW_STEP = 64 * 1024;
