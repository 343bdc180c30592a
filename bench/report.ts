/** The results table (Markdown, so the same text reads well on stdout and in bench/results/). */
import {
  FIGURES,
  type FigureSpec,
  INNER_TLS_SECTION_FIGURES,
  type Medians,
  PIPE_SECTION_FIGURES,
  REPLICA_SECTION_FIGURES,
  type TargetCheck,
} from './figures';
import type { MachineInfo } from './machine';
import { type BenchOptions, isVariantPath, type PathName } from './options';
import { median } from './stats';

/** samples[figureId][path] = one value per repetition. */
export type Samples = Map<string, Map<PathName, number[]>>;

const PATH_LABELS: Record<PathName, string> = {
  direct: 'direct',
  ssh: 'ssh -L',
  'node-pipes': 'node-pipes',
  portcullis: 'Portcullis',
  'portcullis-https': 'Portcullis HTTPS',
  'portcullis-spool': 'Portcullis (bench gateway, spool on)',
  'portcullis-no-spool': 'Portcullis (bench gateway, spool off)',
  'portcullis-plain-tunnel': 'Portcullis (bench gateway, no inner TLS)',
  'portcullis-main-thread': 'Portcullis (log batches on the main thread)',
  'portcullis-replicas-1': 'Portcullis (1 replica on PostgreSQL, HAProxy)',
  'portcullis-replicas-3': 'Portcullis (3 replicas on PostgreSQL, HAProxy)',
};

/** Ratio columns of the main table, when both paths ran: Portcullis against each baseline, HTTPS against ssh -L (both encrypted). */
const RATIOS: readonly (readonly [PathName, PathName])[] = [
  ['portcullis', 'direct'],
  ['portcullis', 'ssh'],
  ['portcullis', 'node-pipes'],
  ['portcullis-https', 'ssh'],
];

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
  // The variant paths have sections of their own under the table.
  const paths = options.paths.filter((path) => !isVariantPath(path));
  const lines: string[] = [];
  lines.push(`# Portcullis benchmark, ${input.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  lines.push('');
  lines.push(
    `Machine: ${machine.hostname}, ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB memory; ` +
      `Node.js ${machine.node}; FerretDB ${machine.ferretdb} (SQLite); ${machine.openssh}.`,
  );
  lines.push(
    `Run: scale ${options.scale}, ${options.repetitions} repetitions interleaved over ${options.paths.map((p) => PATH_LABELS[p]).join(', ')}; ` +
      `${options.connections} concurrent connections, ${options.logConnections} background connections in the log-heavy workload; Portcullis processes started with ${input.launchedWith}; ${Math.round(input.seconds)} s in all.`,
  );
  lines.push('Each figure is the median of the repetitions. Ratios are Portcullis against the other path (for times, lower is better).');
  lines.push('');
  const ratios = RATIOS.filter(([a, b]) => paths.includes(a) && paths.includes(b));
  const header = [
    'workload',
    'figure',
    ...paths.map((p) => PATH_LABELS[p]),
    ...ratios.map(([a, b]) => `${PATH_LABELS[a]} / ${PATH_LABELS[b]}`),
  ];
  header.push('target', 'result');
  const table: string[] = [];

  const missed: string[] = [];
  const mediansOf = new Map<string, Medians>();
  for (const figure of FIGURES) {
    const byPath = samples.get(figure.id);
    if (!byPath) continue;
    const medians: Medians = {};
    for (const [path, values] of byPath) medians[path] = median(values);
    mediansOf.set(figure.id, medians);
    if (figure.section) continue;
    const row = [figure.workload, figure.label, ...paths.map((path) => cell(figure, medians, path))];
    for (const [a, b] of ratios) row.push(ratio(medians, a, b));
    const check = figure.target?.(medians);
    row.push(check?.text ?? '', result(check));
    if (check?.met === false) missed.push(`${figure.label} (${check.text})`);
    table.push(`| ${row.join(' | ')} |`);
  }
  if (table.length > 0) {
    lines.push(`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`, ...table, '');
  }
  lines.push(...pipeSection(paths, mediansOf, missed));
  lines.push(...innerTlsSection(mediansOf, missed));
  lines.push(
    ...comparisonSection({
      title: 'Spool on and off',
      intro:
        'The real gateway agent started by one bench program (bench/children/gateway-agent.ts) with its encrypted write-ahead ' +
        'spool (every logged command written before it is forwarded, as `portcullis gateway start` always does) and without ' +
        'it (not a product option), on the same plain-HTTP control plane, interleaved; the CLI gateway beside them. `ping` ' +
        'is not logged, hence not spooled; the `find` on an empty collection is logged and costs FerretDB little, so the ' +
        "spool's writes per command show there.",
      figures: sectionFigures('spool'),
      after: 'portcullis-spool',
      before: 'portcullis-no-spool',
      columns: ['spool on', 'spool off', 'on ÷ off'],
      reference: { path: 'portcullis', label: '`portcullis gateway start` (spool on)' },
      mediansOf,
      missed,
    }),
  );
  lines.push(
    ...comparisonSection({
      title: "Log storage off the relay's path (log-heavy)",
      intro:
        `While ${options.logConnections} background connections run logged commands back to back (finds, one insert in eight), ` +
        '`findOne` and `ping` on a connection of their own. After: the control plane stores log batches on its writer thread; ' +
        'before: on its main thread, which relays the session bytes (PORTCULLIS_LOG_WRITER_THREAD=off). Interleaved in blocks, ' +
        'the load on one stack at a time.',
      figures: sectionFigures('logheavy'),
      after: 'portcullis',
      before: 'portcullis-main-thread',
      columns: ['writer thread (after)', 'main thread (before)', 'after ÷ before'],
      mediansOf,
      missed,
    }),
  );
  lines.push(
    ...comparisonSection({
      title: 'Control plane replicas behind HAProxy',
      intro:
        `The concurrency workload (${options.connections} connections, each running \`findOne\` by \`_id\` back to back) through ` +
        'HAProxy in TCP mode with round-robin, so that each relayed stream goes to the next replica: 3 control planes ' +
        '(`portcullis server`) on one PostgreSQL against 1 behind the same kind of balancer, each stack with a database of its ' +
        "own on one PostgreSQL server. The gateway and the local proxy are given only HAProxy's address; the gateway keeps a " +
        'channel to each replica. The plain Portcullis path (one control plane on SQLite, no balancer) is beside them. ' +
        `Every replica, the gateway, the local proxy, PostgreSQL, HAProxy, FerretDB and the client share the machine's ${input.machine.cores} cores.`,
      // Its concurrency figures exist without the replica paths too (the main table's): only with `--replicas`.
      figures: options.replicas ? REPLICA_SECTION_FIGURES.map((id) => FIGURES.find((f) => f.id === id) as FigureSpec) : [],
      after: 'portcullis-replicas-3',
      before: 'portcullis-replicas-1',
      columns: ['3 replicas', '1 replica', '3 ÷ 1'],
      reference: { path: 'portcullis', label: 'Portcullis (SQLite, no balancer)' },
      mediansOf,
      missed,
    }),
  );
  if (missed.length > 0) lines.push(`Targets missed: ${missed.join('; ')}.`);
  else lines.push('Every target that could be checked was met.');
  for (const note of input.notes) lines.push('', note);
  lines.push('');
  return { markdown: lines.join('\n'), missed };
}

/**
 * The comparison with plain forwarders, in the round-trip figures: Portcullis (plain HTTP) against
 * node-pipes and ssh -L with the target, and the HTTPS figure with the same ratios beside it.
 */
function pipeSection(paths: readonly PathName[], mediansOf: Map<string, Medians>, missed: string[]): string[] {
  const variants = (['portcullis', 'portcullis-https'] as const).filter((p) => paths.includes(p));
  const baselines = (['node-pipes', 'ssh'] as const).filter((p) => paths.includes(p));
  const rows = PIPE_SECTION_FIGURES.filter((f) => mediansOf.has(f.id));
  if (variants.length === 0 || baselines.length === 0 || rows.length === 0) return [];
  const header = ['figure'];
  for (const v of variants) header.push(PATH_LABELS[v], ...baselines.map((b) => `÷ ${PATH_LABELS[b]}`));
  header.push('target', 'result');
  const lines = sectionHead(
    'Round trip against plain forwarders',
    `Three plain Node \`pipe()\` forwarders (node-pipes) are as many Node hops as Portcullis has; \`ssh -L\` is two C ones. The target is over plain HTTP; the HTTPS figure is beside it.`,
    header,
  );
  for (const { id, target } of rows) {
    const figure = FIGURES.find((f) => f.id === id) as FigureSpec;
    const medians = mediansOf.get(id) as Medians;
    const row = [figure.label];
    for (const v of variants) row.push(cell(figure, medians, v), ...baselines.map((b) => ratio(medians, v, b)));
    const check = target?.(medians);
    row.push(check?.text ?? '', result(check));
    if (check?.met === false) missed.push(`${figure.label} against plain forwarders (${check.text})`);
    lines.push(`| ${row.join(' | ')} |`);
  }
  lines.push('');
  return lines;
}

/**
 * The issue "End-to-end encryption": what the inner TLS costs, as ratios within one run. The bench gateway program
 * with the inner TLS against the same program without it (not a product option, bench/children/plain-tunnel.ts), and
 * the product path (`portcullis gateway start`, inner TLS) against `ssh -L` and direct, where the targets are.
 */
function innerTlsSection(mediansOf: Map<string, Medians>, missed: string[]): string[] {
  const rows = INNER_TLS_SECTION_FIGURES.filter((f) => mediansOf.get(f.id)?.['portcullis-plain-tunnel'] !== undefined);
  if (rows.length === 0) return [];
  const header = [
    'figure',
    'inner TLS on',
    'inner TLS off',
    'on ÷ off',
    'Portcullis',
    'ssh -L',
    'direct',
    'Portcullis ÷ ssh -L',
    'Portcullis ÷ direct',
    'target',
    'result',
  ];
  const lines = sectionHead(
    'End-to-end encryption: what the inner TLS costs',
    'Every relayed stream carries TLS 1.3 between the local proxy and the gateway, inside the relay. "On" and "off" are ' +
      'one bench gateway program (bench/children/gateway-agent.ts, spool on) on the plain-HTTP control plane, with the ' +
      'inner TLS and without it (its local proxy without it too; not a product option), interleaved with the other paths. ' +
      'Portcullis is the product path (`portcullis gateway start`, inner TLS on), against `ssh -L`, which encrypts too, ' +
      'and direct.',
    header,
  );
  for (const { id, target } of rows) {
    const figure = FIGURES.find((f) => f.id === id) as FigureSpec;
    const medians = mediansOf.get(id) as Medians;
    const check = target?.(medians);
    if (check?.met === false) missed.push(`${figure.label} with the inner TLS (${check.text})`);
    lines.push(
      `| ${[
        figure.label,
        cell(figure, medians, 'portcullis-spool'),
        cell(figure, medians, 'portcullis-plain-tunnel'),
        ratio(medians, 'portcullis-spool', 'portcullis-plain-tunnel'),
        cell(figure, medians, 'portcullis'),
        cell(figure, medians, 'ssh'),
        cell(figure, medians, 'direct'),
        ratio(medians, 'portcullis', 'ssh'),
        ratio(medians, 'portcullis', 'direct'),
        check?.text ?? '',
        result(check),
      ].join(' | ')} |`,
    );
  }
  lines.push('');
  return lines;
}

/** A section's title, its introduction and the head of its table (the first column left-aligned, the rest right). */
function sectionHead(title: string, intro: string, header: readonly string[]): string[] {
  return [`## ${title}`, '', intro, '', `| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < 1 ? '---' : '---:')).join('|')}|`];
}

/** The figures shown only in one section under the main table. */
function sectionFigures(section: NonNullable<FigureSpec['section']>): FigureSpec[] {
  return FIGURES.filter((f) => f.section === section);
}

/** A before/after table for the figures of one section: one path against its variant. */
function comparisonSection(input: {
  title: string;
  intro: string;
  figures: readonly FigureSpec[];
  after: PathName;
  before: PathName;
  columns: [string, string, string];
  /** Another path shown after the ratio, for reference. */
  reference?: { path: PathName; label: string };
  mediansOf: Map<string, Medians>;
  missed: string[];
}): string[] {
  const figures = input.figures.filter((f) => input.mediansOf.has(f.id));
  if (figures.length === 0) return [];
  const header = ['figure', ...input.columns, ...(input.reference ? [input.reference.label] : []), 'target', 'result'];
  const lines = sectionHead(input.title, input.intro, header);
  for (const figure of figures) {
    const medians = input.mediansOf.get(figure.id) as Medians;
    const check = figure.target?.(medians);
    if (check?.met === false) input.missed.push(`${figure.label}, ${input.columns[0]} against ${input.columns[1]} (${check.text})`);
    const row = [
      figure.label,
      cell(figure, medians, input.after),
      cell(figure, medians, input.before),
      ratio(medians, input.after, input.before),
    ];
    if (input.reference) row.push(cell(figure, medians, input.reference.path));
    row.push(check?.text ?? '', result(check));
    lines.push(`| ${row.join(' | ')} |`);
  }
  lines.push('');
  return lines;
}

function cell(figure: FigureSpec, medians: Medians, path: PathName): string {
  const value = medians[path];
  return value === undefined || Number.isNaN(value) ? '–' : `${format(value, figure.digits)} ${figure.unit}`;
}

function ratio(medians: Medians, of: PathName, to: PathName): string {
  const p = medians[of];
  const o = medians[to];
  return p === undefined || o === undefined || !Number.isFinite(p / o) || o === 0 ? '–' : `${(p / o).toFixed(2)}×`;
}

function result(check: TargetCheck | undefined): string {
  return check === undefined ? '' : check.met === undefined ? 'n/a' : check.met ? 'met' : '**MISSED**';
}

function format(value: number, digits: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
