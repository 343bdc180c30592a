/** The results table (Markdown, so the same text reads well on stdout and in bench/results/). */
import { FIGURES, type Medians } from './figures';
import type { MachineInfo } from './machine';
import type { BenchOptions, PathName } from './options';
import { median } from './stats';

/** samples[figureId][path] = one value per repetition. */
export type Samples = Map<string, Map<PathName, number[]>>;

const PATH_LABELS: Record<PathName, string> = { direct: 'direct', ssh: 'ssh -L', portcullis: 'Portcullis' };

export interface ReportInput {
  options: BenchOptions;
  machine: MachineInfo;
  samples: Samples;
  startedAt: Date;
  seconds: number;
  launchedWith: string;
  notes: string[];
}

export interface Report {
  markdown: string;
  /** Targets missed (label and target), for the exit code and the summary line. */
  missed: string[];
}

export function renderReport(input: ReportInput): Report {
  const { options, machine, samples } = input;
  const paths = options.paths;
  const lines: string[] = [];
  lines.push(`# Portcullis benchmark, ${input.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  lines.push('');
  lines.push(
    `Machine: ${machine.hostname}, ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB memory; ` +
      `Node.js ${machine.node}; FerretDB ${machine.ferretdb} (SQLite); ${machine.openssh}.`,
  );
  lines.push(
    `Run: scale ${options.scale}, ${options.repetitions} repetitions interleaved over ${paths.map((p) => PATH_LABELS[p]).join(', ')}; ` +
      `${options.connections} concurrent connections; Portcullis processes started with ${input.launchedWith}; ${Math.round(input.seconds)} s in all.`,
  );
  lines.push('Each figure is the median of the repetitions. Ratios are Portcullis against the other path (for times, lower is better).');
  lines.push('');
  const header = ['workload', 'figure', ...paths.map((p) => PATH_LABELS[p])];
  const withRatios = paths.includes('portcullis');
  if (withRatios && paths.includes('direct')) header.push('Portcullis / direct');
  if (withRatios && paths.includes('ssh')) header.push('Portcullis / ssh -L');
  header.push('target', 'result');
  lines.push(`| ${header.join(' | ')} |`);
  lines.push(`|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`);

  const missed: string[] = [];
  for (const figure of FIGURES) {
    const byPath = samples.get(figure.id);
    if (!byPath) continue;
    const medians: Medians = {};
    for (const [path, values] of byPath) medians[path] = median(values);
    const cell = (path: PathName) => {
      const value = medians[path];
      return value === undefined || Number.isNaN(value) ? '–' : `${format(value, figure.digits)} ${figure.unit}`;
    };
    const row = [figure.workload, figure.label, ...paths.map(cell)];
    const ratio = (other: PathName) => {
      const p = medians.portcullis;
      const o = medians[other];
      return p === undefined || o === undefined || !Number.isFinite(p / o) || o === 0 ? '–' : `${(p / o).toFixed(2)}×`;
    };
    if (withRatios && paths.includes('direct')) row.push(ratio('direct'));
    if (withRatios && paths.includes('ssh')) row.push(ratio('ssh'));
    const check = figure.target?.(medians);
    row.push(check?.text ?? '', check === undefined ? '' : check.met === undefined ? 'n/a' : check.met ? 'met' : '**MISSED**');
    if (check?.met === false) missed.push(`${figure.label} (${check.text})`);
    lines.push(`| ${row.join(' | ')} |`);
  }
  lines.push('');
  if (missed.length > 0) lines.push(`Targets missed: ${missed.join('; ')}.`);
  else lines.push('Every target that could be checked was met.');
  for (const note of input.notes) lines.push('', note);
  lines.push('');
  return { markdown: lines.join('\n'), missed };
}

function format(value: number, digits: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
