/**
 * The bench's command line and environment: how much work (scale), which paths and workloads, how many
 * repetitions. Flags win over BENCH_* variables.
 */
import { parseArgs } from 'node:util';

export const PATH_NAMES = Object.freeze([
  'direct',
  'ssh',
  'node-pipes',
  'portcullis',
  'portcullis-https',
  'portcullis-spool',
  'portcullis-no-spool',
  'portcullis-plain-tunnel',
  'portcullis-main-thread',
] as const);

/**
 * The concurrency workload on control planes that share PostgreSQL behind HAProxy (round-robin): one replica, and
 * three. Not chosen with `--paths` (not even by default): `--replicas` adds both. They run only the concurrency
 * workload and have no column in the main table (a section of their own).
 */
export const REPLICA_PATHS = Object.freeze(['portcullis-replicas-1', 'portcullis-replicas-3'] as const);
export type PathName = (typeof PATH_NAMES)[number] | (typeof REPLICA_PATHS)[number];

/** How many control planes each replica path runs. */
export const REPLICA_COUNT: Readonly<Record<(typeof REPLICA_PATHS)[number], number>> = Object.freeze({
  'portcullis-replicas-1': 1,
  'portcullis-replicas-3': 3,
});

export const isReplicaPath = (path: PathName): path is (typeof REPLICA_PATHS)[number] =>
  (REPLICA_PATHS as readonly PathName[]).includes(path);

/** The paths through Portcullis: plain HTTP to the control plane, and HTTPS on both relay legs as in production. */
export const PORTCULLIS_PATHS: readonly PathName[] = Object.freeze(['portcullis', 'portcullis-https']);

/**
 * Variants of the plain-HTTP Portcullis path for before/after comparisons. `portcullis-spool` and
 * `portcullis-no-spool` reach FerretDB through one bench program running the real gateway agent
 * (bench/children/gateway-agent.ts) on the same control plane, with and without the write-ahead spool (the `spool`
 * workload; the CLI always spools, so "without" is not a product option). `portcullis-main-thread` is a stack of its
 * own whose control plane stores log batches on its main thread (PORTCULLIS_LOG_WRITER_THREAD=off), the "before" of
 * the `logheavy` workload. `portcullis-plain-tunnel` is the same bench gateway program with the spool but without the
 * inner TLS, and a local proxy without it too (bench/children/plain-tunnel.ts; not a product option either): the
 * unencrypted reference of the end-to-end encryption section, where it runs the round trip and the bulk read beside
 * `portcullis-spool` (the same program with the inner TLS). They have no column in the main table.
 */
export const VARIANT_PATHS: readonly PathName[] = Object.freeze([
  'portcullis-spool',
  'portcullis-no-spool',
  'portcullis-plain-tunnel',
  'portcullis-main-thread',
]);

/**
 * The end-to-end encryption section's pair: the bench gateway program with the inner TLS and without it. Besides the
 * main table's paths, they are the only ones that run the round trip and the bulk read.
 */
export const INNER_TLS_PATHS: readonly PathName[] = Object.freeze(['portcullis-spool', 'portcullis-plain-tunnel']);

/** Paths without a column in the main table: the variants, and the replica paths of `--replicas`. */
export const isVariantPath = (path: PathName): boolean => VARIANT_PATHS.includes(path) || isReplicaPath(path);

export const WORKLOAD_NAMES = Object.freeze([
  'roundtrip',
  'bulkread',
  'bulkwrite',
  'concurrency',
  'setup',
  'raw',
  'spool',
  'logheavy',
] as const);
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

export interface BenchOptions {
  /** Multiplies every operation count (1 = the full figures). */
  scale: number;
  /** The chosen paths, then the replica paths when `--replicas` is given. */
  paths: PathName[];
  workloads: WorkloadName[];
  /** `--replicas`: also run the concurrency workload on 1 and on 3 control planes on PostgreSQL behind HAProxy. */
  replicas: boolean;
  repetitions: number;
  /** Client connections of the concurrency workload (200 at full size). */
  connections: number;
  /** Background connections of the log-heavy workload, each a steady stream of logged commands. */
  logConnections: number;
  /** Folder for the results file, or null to print only. */
  resultsDir: string | null;
  /** Write CPU profiles of the control plane, gateway and local proxy into this folder. */
  cpuProfDir: string | null;
}

export const USAGE = `npm run bench -- [options]
  --scale N            multiply every operation count (default 1, or $BENCH_SCALE); e.g. 0.01 for a quick run
  --paths LIST         comma-separated: ${PATH_NAMES.join(',')} (default all, or $BENCH_PATHS)
  --workloads LIST     comma-separated: ${WORKLOAD_NAMES.join(',')} (default all, or $BENCH_WORKLOADS)
  --repetitions N      rounds over every path, interleaved (default 3, or $BENCH_REPETITIONS)
  --connections N      client connections of the concurrency workload (default 200, or $BENCH_CONNECTIONS)
  --log-connections N  background connections of the log-heavy workload (default 16, or $BENCH_LOG_CONNECTIONS)
  --replicas           also run the concurrency workload through HAProxy on 1 and on 3 control-plane replicas sharing
                       PostgreSQL (or $BENCH_REPLICAS=1); needs concurrency among the workloads
  --results-dir DIR    where the results table is saved (default bench/results)
  --no-save            print the table only
  --cpu-prof DIR       write .cpuprofile files of the control plane, gateway and local proxy into DIR (HTTPS stack: https-*, main-thread stack: main-thread-*, replica stacks: replicas-1-*, replicas-3-*)`;

export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

export function parseBenchOptions(argv: string[], env: NodeJS.ProcessEnv, defaultResultsDir: string): BenchOptions {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (error) {
    throw new BenchUsageError(`${(error as Error).message}\n${USAGE}`);
  }
  const flags = parsed.values;
  const scale = number('--scale', flags.scale ?? env.BENCH_SCALE ?? '1', { min: 0.0001, max: 100 });
  const repetitions = number('--repetitions', flags.repetitions ?? env.BENCH_REPETITIONS ?? '3', { min: 1, max: 100, integer: true });
  const connections = number('--connections', flags.connections ?? env.BENCH_CONNECTIONS ?? '200', { min: 1, max: 2000, integer: true });
  const logConnections = number('--log-connections', flags['log-connections'] ?? env.BENCH_LOG_CONNECTIONS ?? '16', {
    min: 1,
    max: 200,
    integer: true,
  });
  const workloads = list('--workloads', flags.workloads ?? env.BENCH_WORKLOADS, WORKLOAD_NAMES);
  const replicas = flags.replicas ?? yesNo('BENCH_REPLICAS', env.BENCH_REPLICAS);
  if (replicas && !workloads.includes('concurrency')) {
    throw new BenchUsageError(`--replicas runs the concurrency workload: add concurrency to --workloads\n${USAGE}`);
  }
  const paths: PathName[] = list('--paths', flags.paths ?? env.BENCH_PATHS, PATH_NAMES);
  return {
    scale,
    repetitions,
    connections,
    logConnections,
    paths: replicas ? [...paths, ...REPLICA_PATHS] : paths,
    workloads,
    replicas,
    resultsDir: flags['no-save'] ? null : (flags['results-dir'] ?? defaultResultsDir),
    cpuProfDir: flags['cpu-prof'] ?? null,
  };
}

function parseFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      scale: { type: 'string' },
      paths: { type: 'string' },
      workloads: { type: 'string' },
      repetitions: { type: 'string' },
      connections: { type: 'string' },
      'log-connections': { type: 'string' },
      replicas: { type: 'boolean' },
      'results-dir': { type: 'string' },
      'no-save': { type: 'boolean' },
      'cpu-prof': { type: 'string' },
    },
  });
}

function number(flag: string, text: string, range: { min: number; max: number; integer?: boolean }): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < range.min || value > range.max || (range.integer && !Number.isInteger(value))) {
    throw new BenchUsageError(
      `${flag} must be ${range.integer ? 'a whole number' : 'a number'} from ${range.min} to ${range.max}, got "${text}"`,
    );
  }
  return value;
}

/** A yes/no environment variable: 1/true/yes or 0/false/no (or unset). */
function yesNo(name: string, text: string | undefined): boolean {
  const value = (text ?? '').trim().toLowerCase();
  if (['', '0', 'false', 'no'].includes(value)) return false;
  if (['1', 'true', 'yes'].includes(value)) return true;
  throw new BenchUsageError(`$${name} must be 1 or 0, got "${text}"`);
}

function list<T extends string>(flag: string, text: string | undefined, allowed: readonly T[]): T[] {
  if (text === undefined || text.trim() === '') return [...allowed];
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = items.filter((item) => !allowed.includes(item as T));
  if (unknown.length > 0) throw new BenchUsageError(`${flag}: unknown ${unknown.join(', ')}; choose from ${allowed.join(', ')}`);
  // Keep the canonical order so tables always read the same way.
  return allowed.filter((name) => items.includes(name));
}

/** An operation count scaled down (never below `min`). */
export function scaled(full: number, scale: number, min = 1): number {
  return Math.max(min, Math.round(full * scale));
}
