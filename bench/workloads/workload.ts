/** What every workload implements: it runs once on one path and returns its figures, keyed by figure id. */
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

export interface Workload {
  name: WorkloadName;
  /** The paths this workload runs on (session setup exists only for Portcullis). */
  appliesTo(path: PathName): boolean;
  run(run: WorkloadRun): Promise<Figures>;
}
