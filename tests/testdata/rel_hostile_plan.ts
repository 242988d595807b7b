// What the hostile instance (rel_hostile.ts) writes, as a function of its seed, so that the
// test can tell what to expect. Three kinds of damage:
// - "header": every word of the shared data header, the magic included, gets a random or
//   borderline value: the supervisor must find the header corrupt;
// - "header-but-magic": the magic is kept and the other words get values that mostly look
//   plausible (a free or held lock, a length a slot may hold, an old or future instance id),
//   sometimes random: they may or may not pass the supervisor's checks, and must not make it
//   read out of bounds or wait for ever;
// - "slots": the header is left alone and random bytes go over both data slots: nothing to
//   detect, the data is simply what the instance wrote.
// In every kind the instance's own block gets random values too (its health-check state left
// as it was in half of the seeds, so that the supervisor also sees it as started).
import {
  DATA_CONTROL,
  DATA_EPOCH,
  DATA_LENGTH_0,
  DATA_LENGTH_1,
  DATA_MAGIC,
  DATA_MAGIC_VALUE,
  HOLDER_MASK,
  INST_HC_STATE,
  SLOT_BIT,
} from "../../shared_memory/layout.ts";
import { random } from "./rel_pattern.ts";

export type Damage = "header" | "header-but-magic" | "slots";

export interface HostilePlan {
  damage: Damage;
  /** A value per header word, or null to leave it. */
  header: (number | null)[];
  /** A value per block word, or null to leave it. */
  block: (number | null)[];
  /** Seed of the random bytes written over both slots, or null. */
  slotSeed: number | null;
  /** How the instance ends. */
  end: "throw" | "exit" | "return";
  exitCode: number;
  /** Length of the good value it stores first. */
  goodLength: number;
}

const BORDERLINE = [
  0,
  1,
  2,
  -1,
  3,
  HOLDER_MASK,
  HOLDER_MASK - 1,
  SLOT_BIT,
  SLOT_BIT | 1,
  SLOT_BIT | 2,
  SLOT_BIT | HOLDER_MASK,
  0x7fffffff,
  -0x80000000,
  65535,
  65536,
  65537,
  1 << 20,
  (1 << 20) + 1,
  DATA_MAGIC_VALUE,
];

/** Values that may pass the supervisor's checks, by header word. */
const PLAUSIBLE: Record<number, number[]> = {
  [DATA_CONTROL]: [
    0,
    1,
    2,
    SLOT_BIT,
    SLOT_BIT | 1,
    SLOT_BIT | 2,
    HOLDER_MASK,
    SLOT_BIT | HOLDER_MASK,
  ],
  [DATA_LENGTH_0]: [0, 1, 100, 4096, 65535, 65536, 65537, 131072],
  [DATA_LENGTH_1]: [0, 1, 100, 4096, 65535, 65536, 65537, 131072],
  [DATA_EPOCH]: [0, 1, 2, 3, -1],
};

export function hostilePlan(seed: number, headerWords: number, blockWords: number): HostilePlan {
  const next = random(seed * 7919 + 17);
  const word = () =>
    next() < 0.5
      ? BORDERLINE[Math.floor(next() * BORDERLINE.length)]
      : (Math.floor(next() * 2 ** 32) | 0);
  const damage: Damage = (["header", "header-but-magic", "slots"] as const)[seed % 3];
  const header = Array.from({ length: headerWords }, (_, i) => {
    if (damage === "slots") return null;
    if (damage === "header-but-magic") {
      if (i === DATA_MAGIC) return null;
      const plausible = PLAUSIBLE[i];
      return plausible && next() < 0.7 ? plausible[Math.floor(next() * plausible.length)] : word();
    }
    if (i !== DATA_MAGIC) return word();
    let magic = word();
    while (magic === DATA_MAGIC_VALUE) magic = word();
    return magic;
  });
  const keepHcState = next() < 0.5;
  const block = Array.from(
    { length: blockWords },
    (_, i) => i === INST_HC_STATE && keepHcState ? null : word(),
  );
  return {
    damage,
    header,
    block,
    slotSeed: damage === "slots" || next() < 0.5 ? Math.floor(next() * 2 ** 31) : null,
    end: (["throw", "exit", "return"] as const)[Math.floor(next() * 3)],
    exitCode: Math.floor(next() * 256),
    goodLength: [0, 1, 100, 4096, 65536, 65537][Math.floor(next() * 6)],
  };
}
