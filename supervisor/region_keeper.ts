// The stored data as the supervisor keeps it: besides what both sides do (region.ts), it lets
// one instance at a time act, fences an instance it gave up, and moves the value into memory
// no instance has seen, so that nothing a given-up instance still does reaches the next one.
import {
  admit,
  copyHeader,
  fenceHolder,
  openHeader,
  readIntact,
  retireHeader,
  storesPublished,
} from "../shared_memory/data_protocol.ts";
import { SLOT_BIT } from "../shared_memory/layout.ts";
import {
  DataRegion,
  type DataRegionHandles,
  growSlot,
  newHandles,
  newSlot,
} from "../shared_memory/region.ts";

/** The supervisor's hold on the stored data, from one instance to the next. */
export class RegionKeeper {
  /** The region everyone on the supervisor's side holds; the keeper moves it. */
  readonly region: DataRegion;
  /** A header and two slots no instance has acted on, for the next rehome() or reset(). */
  #nextHome: DataRegionHandles | null = null;
  /** Stores published into the headers this region has left behind. */
  #storesBefore = 0;

  constructor(region: DataRegion) {
    this.region = region;
  }

  /** A keeper of a new, empty region for data of at most `maxDataSize` bytes. */
  static create(maxDataSize: number): RegionKeeper {
    return new RegionKeeper(DataRegion.create(maxDataSize));
  }

  /**
   * Handles of the header and slots that the next rehome() or reset() moves the value into.
   * A standby Worker attaches them ahead, so that its activation needs no message, and the
   * allocation is off a recovery's path. The standby does not touch them before it is
   * activated, so for whatever instance it becomes they are as new.
   */
  get nextHandles(): DataRegionHandles {
    this.#nextHome ??= newHandles(this.region.maxDataSize);
    return { ...this.#nextHome, slots: this.#nextHome.slots.slice() };
  }

  /**
   * Forgets the header and slots {@linkcode RegionKeeper.nextHandles} gave out, when the Worker
   * given them will never be the next instance (a reload's instance that failed): they are not
   * as new any more.
   */
  dropNextHome(): void {
    this.#nextHome = null;
  }

  /**
   * How many stores were ever published here: a standby's reads before its activation are
   * still true as long as this has not changed. (An instance can write the counter word; a
   * wrong count misleads only its own program's replayed reads.)
   */
  version(): number {
    return this.#storesBefore + storesPublished(this.region.header);
  }

  /** Lets `instanceId` act on the data (and no other instance). */
  admit(instanceId: number): void {
    admit(this.region.header, instanceId);
  }

  /**
   * Fences `instanceId` after the supervisor gave it up: from now on none of its stores can
   * be published here. When it held the lock, it may be anywhere between taking the lock and
   * publishing: still to write the length word, or copying into the slot that is not current.
   * So the region moves on to a copy of the header and a fresh slot in place of that one, and
   * the instance is left with a header and a slot nobody reads again. (The supervisor then
   * rehomes the region as well, which also keeps out direct writes.)
   */
  fence(instanceId: number): void {
    const old = this.region.header;
    const word = fenceHolder(old, instanceId);
    if (word === null) return;
    const slots = this.region.handles.slots;
    slots[(word & SLOT_BIT) ? 0 : 1] = newSlot(this.region.maxDataSize);
    this.region.moveTo(copyHeader(old), slots);
    // Anyone waiting for the lock on the old header wakes and finds the epoch closed.
    retireHeader(old);
  }

  /**
   * Moves the stored value into a new header and new slots that no instance has seen yet, so
   * that nothing a given-up instance still does to the old ones (even one whose thread the
   * runtime could not stop, even one that writes to shared memory directly) reaches the next
   * instance. Costs one copy of the value. When the header is not intact (an instance broke
   * it; `maxHolder` is the highest instance id that may hold the lock), the new region is empty.
   *
   * @returns Whether the value was intact and carried over.
   */
  rehome(maxHolder: number): boolean {
    const { header, maxDataSize } = this.region;
    const slots = this.region.handles.slots;
    const value = readIntact(header, maxHolder, (slot) => slots[slot].byteLength, maxDataSize);
    if (value === null) {
      this.reset();
      return false;
    }
    const { slot, length } = value;
    const home = this.#takeHome();
    const fresh = home.slots[0];
    if (length > 0) {
      growSlot(fresh, length, maxDataSize);
      new Uint8Array(fresh, 0, length).set(new Uint8Array(slots[slot], 0, length));
    }
    this.#moveInto(home, length);
    return true;
  }

  /** Empties the region into a new header and new slots: the recovery from a corrupt header. */
  reset(): void {
    this.#moveInto(this.#takeHome(), 0);
  }

  /** The prepared home, or a new one; either way the next rehome() gets another. */
  #takeHome(): DataRegionHandles {
    const home = this.#nextHome ?? newHandles(this.region.maxDataSize);
    this.#nextHome = null;
    return home;
  }

  /** Makes `home` the region, with slot 0 current and holding `length` bytes. */
  #moveInto(home: DataRegionHandles, length: number): void {
    const old = this.region.header;
    this.#storesBefore += storesPublished(old);
    // The old header tells anyone still using it that no one may act any more.
    retireHeader(old);
    const h = new Int32Array(home.header);
    openHeader(h, length);
    this.region.moveTo(h, home.slots);
  }
}
