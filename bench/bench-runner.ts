/**
 * One bench run: builds the programs, starts the bed, runs each workload on each path, interleaved
 * (repetition → workload → paths, the path order rotating each repetition), and renders the table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBenchBed } from './bench-bed';
import { buildBenchPrograms } from './build-children';
import { describeMachine } from './machine';
import { type BenchOptions, type PathName, scaled } from './options';
import { type Report, renderReport, type Samples } from './report';
import { bulkReadWorkload } from './workloads/bulk-read';
import { bulkWriteWorkload } from './workloads/bulk-write';
import { concurrencyWorkload } from './workloads/concurrency';
import { logHeavyWorkload } from './workloads/log-heavy';
import { rawTunnelWorkload } from './workloads/raw-tunnel';
import { roundTripWorkload } from './workloads/round-trip';
import { sessionSetupWorkload } from './workloads/session-setup';
import { spoolWorkload } from './workloads/spool';
import type { Figures, Workload, WorkloadRun } from './workloads/workload';

const WORKLOADS: readonly Workload[] = [
  roundTripWorkload,
  bulkReadWorkload,
  bulkWriteWorkload,
  concurrencyWorkload,
  sessionSetupWorkload,
  rawTunnelWorkload,
  spoolWorkload,
  logHeavyWorkload,
];
const FULL_BULK_DOCUMENTS = 200_000;

export interface BenchResult {
  report: Report;
  samples: Samples;
  /** The results file, when saved. */
  savedTo: string | null;
}

export async function runBench(options: BenchOptions, log: (line: string) => void): Promise<BenchResult> {
  const startedAt = new Date();
  log('building the CLI and the bench programs…');
  const programs = await buildBenchPrograms();
  const notes: string[] = [];
  const bed = await startBenchBed({
    programs,
    paths: options.paths,
    bulkCount: options.workloads.includes('bulkread') ? scaled(FULL_BULK_DOCUMENTS, options.scale, 100) : 100,
    cpuProfDir: options.cpuProfDir,
    log,
  });
  const samples: Samples = new Map();
  const record = (path: PathName, figures: Figures) => {
    for (const [id, value] of Object.entries(figures)) {
      const byPath = samples.get(id) ?? new Map<PathName, number[]>();
      samples.set(id, byPath);
      byPath.set(path, [...(byPath.get(path) ?? []), value]);
    }
  };
  try {
    const chosen = WORKLOADS.filter((w) => options.workloads.includes(w.name));
    for (let repetition = 0; repetition < options.repetitions; repetition++) {
      for (const workload of chosen) {
        const runs: WorkloadRun[] = [];
        for (const path of rotate(options.paths, repetition)) {
          const endpoint = bed.endpoints.get(path);
          if (endpoint && workload.appliesTo(path)) runs.push({ path, endpoint, bed, options, repetition });
        }
        const rep = `repetition ${repetition + 1}/${options.repetitions}`;
        // One failed run should not throw away the others: it is reported under the table instead.
        const fail = (paths: string, error: unknown) => {
          const note = `Failed: ${workload.name} via ${paths} in repetition ${repetition + 1}: ${(error as Error).message}`;
          notes.push(note);
          log(note);
        };
        if ('runInterleaved' in workload) {
          const paths = runs.map((r) => r.path).join(', ');
          log(`${rep}: ${workload.name} via ${paths}, interleaved…`);
          try {
            for (const [path, figures] of await workload.runInterleaved(runs)) record(path, figures);
          } catch (error) {
            fail(paths, error);
          }
          continue;
        }
        for (const run of runs) {
          log(`${rep}: ${workload.name} via ${run.path}…`);
          try {
            record(run.path, await workload.run(run));
          } catch (error) {
            fail(run.path, error);
          }
        }
      }
    }
  } finally {
    log('stopping…');
    await bed.stop();
  }
  const report = renderReport({
    options,
    machine: describeMachine(bed.ferretdbVersion),
    samples,
    startedAt,
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    launchedWith: '`portcullis server` and `portcullis gateway start` (separate processes)',
    notes,
  });
  let savedTo: string | null = null;
  if (options.resultsDir) {
    mkdirSync(options.resultsDir, { recursive: true });
    const machine = describeMachine(bed.ferretdbVersion);
    const stamp = startedAt.toISOString().slice(0, 16).replace(/[:T]/g, '-');
    savedTo = join(options.resultsDir, `${stamp}-${machine.hostname}.md`);
    writeFileSync(savedTo, report.markdown);
  }
  return { report, samples, savedTo };
}

/** The paths in a different order each repetition, so no path always runs first (warm caches, a quiet CPU). */
function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
