/**
 * What every workload implements: it runs once on one path and returns its figures, keyed by figure id; or, for
 * figures whose ratios between paths matter most (round-trip latency), once on all paths together, their
 * operations interleaved, so that background load drifting over a run weighs on every path alike.
 */
import type { BenchBed, PathEndpoint } from '../bench-bed';
import type { BenchOptions, PathName, WorkloadName } from '../options';

export type Figures = Record<string, number>;

export interface WorkloadRun {
  path: PathName;
  endpoint: PathEndpoint;
  bed: BenchBed;
  options: BenchOptions;
  /** 0-based repetition, for names that must not collide between runs. */
  repetition: number;
}

interface WorkloadBase {
  name: WorkloadName;
  /** The paths this workload runs on (session setup exists only for Portcullis). */
  appliesTo(path: PathName): boolean;
}

export interface SequentialWorkload extends WorkloadBase {
  run(run: WorkloadRun): Promise<Figures>;
}

export interface InterleavedWorkload extends WorkloadBase {
  /** One run per path (in the repetition's rotated order); figures per path. */
  runInterleaved(runs: WorkloadRun[]): Promise<Map<PathName, Figures>>;
}

export type Workload = SequentialWorkload | InterleavedWorkload;
