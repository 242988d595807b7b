// A bare Worker of the storm's baseline (rel_bare_workers.ts): it ends at once with code 1, as
// a storm instance does, without printing. JavaScript, so that no runtime has TypeScript to
// strip or compile in it: the baseline is the Worker alone.
import process from "node:process";

process.exit(1);
