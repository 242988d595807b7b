// Puts an engine together from what supervise() or the main thread's register() was given:
// the state a hand-over carried in, the record's sinks, the quorum source and the hand-over
// strategy. Loaded only where supervision runs, never in an instance.
import { cmapSink } from "../corosync/cmap_sink.ts";
import type { ClusterLinks } from "../corosync/connect.ts";
import { stuckPolicy, takeCarriedState } from "../handover/hand_over.ts";
import type { SuperviseOptions } from "../options.ts";
import { RecoveryPolicy } from "../policy.ts";
import { SUPERVISOR_HOLDER } from "../shared_memory/layout.ts";
import type { DataRegion } from "../shared_memory/region.ts";
import { Engine } from "./engine.ts";
import type { Emit } from "./log.ts";
import type { RecordSink } from "./record.ts";
import { fileSink } from "./record_file.ts";
import { RegionKeeper } from "./region_keeper.ts";

/** What supervision is started with. */
export interface SupervisionSpec {
  /** URL of the application module. */
  module: string;
  /** Authoritative time interval, policy and options. */
  options: SuperviseOptions;
  /** The stored data, with what the first instance restores. */
  region: DataRegion;
  warnSignal: number;
  /** The libsam style: the program's main thread supervises itself (and may hand over). */
  mainThread: boolean;
  /** corosync's cmap and quorum, when the flags asked for them and they were reached. */
  cluster?: ClusterLinks;
}

/**
 * An engine for `spec`, not yet begun; `emit` dispatches its events, `keeper` keeps the
 * stored data (one of the spec's region when not given).
 */
export function createEngine(
  spec: SupervisionSpec,
  emit: Emit,
  keeper: RegionKeeper = new RegionKeeper(spec.region),
): Engine {
  const { options, region } = spec;
  const resumed = spec.mainThread ? takeCarriedState() : null;
  if (resumed !== null) region.store(SUPERVISOR_HOLDER, resumed.data, false);
  const cmap = (options.recoveryPolicy & RecoveryPolicy.CMAP) !== 0;
  const quorumFlag = (options.recoveryPolicy & RecoveryPolicy.QUORUM) !== 0;
  const sinks: RecordSink[] = [];
  if (cmap && options.stateFile !== undefined) sinks.push(fileSink(options.stateFile));
  const links = spec.cluster;
  if (cmap && links?.cmap) sinks.push(cmapSink(links.cmap, { quorum: quorumFlag }));
  // A source given in the options wins; without one, corosync's (opened by connectCluster).
  const source = quorumFlag ? options.quorum ?? links?.quorum ?? undefined : undefined;
  const quorum = source && { source, owned: source !== options.quorum };
  return new Engine({
    module: spec.module,
    options,
    keeper,
    warnSignal: resumed?.warnSignal ?? spec.warnSignal,
    firstId: resumed?.nextId ?? 1,
    restartAges: resumed?.restartAges ?? [],
    stuckThreads: resumed?.stuckThreads ?? 0,
    sinks,
    quorum,
    stuck: stuckPolicy(spec.mainThread, options.handOver),
    emit,
  });
}
