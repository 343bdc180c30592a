/**
 * Every figure the bench prints: its label, unit, which way is better, and the target for it, checked
 * on the medians of the repetitions.
 */
import type { PathName, WorkloadName } from './options';

export type Medians = Partial<Record<PathName, number>>;

export interface TargetCheck {
  /** The target as text, e.g. "≤ 1.5× direct and ≤ ssh -L". */
  text: string;
  /** true = met, false = missed, undefined = not enough paths measured to tell. */
  met: boolean | undefined;
}

export interface FigureSpec {
  id: string;
  workload: WorkloadName;
  label: string;
  unit: string;
  better: 'lower' | 'higher';
  digits: number;
  target?: (m: Medians) => TargetCheck;
  /**
   * Figures of a before/after comparison between the Portcullis path and one of its variants, shown in a section of
   * their own under the main table instead of in it.
   */
  section?: 'spool' | 'logheavy' | 'replicas';
}

const both = (a: boolean | undefined, b: boolean | undefined) =>
  a === false || b === false ? false : a === undefined || b === undefined ? undefined : true;
const compare = (value: number | undefined, ok: (v: number) => boolean) =>
  value === undefined || Number.isNaN(value) ? undefined : ok(value);

const latencyTarget = (m: Medians): TargetCheck => {
  const p = m.portcullis;
  return {
    text: '≤ 1.5× direct, ≤ ssh -L',
    met: both(
      m.direct === undefined ? undefined : compare(p, (v) => v <= 1.5 * (m.direct as number)),
      m.ssh === undefined ? undefined : compare(p, (v) => v <= (m.ssh as number)),
    ),
  };
};

const throughputTarget = (m: Medians): TargetCheck => ({
  text: '≥ 80% of direct',
  met: m.direct === undefined ? undefined : compare(m.portcullis, (v) => v >= 0.8 * (m.direct as number)),
});

/**
 * The issue "Forwarding as cheap as a pipe": ping p50 through Portcullis over plain HTTP at most 1.1× three plain
 * Node `pipe()` forwarders and no worse than `ssh -L`, as ratios within one run. The HTTPS figure is shown beside it.
 */
export const pipeTarget = (m: Medians): TargetCheck => {
  const p = m.portcullis;
  return {
    text: 'Portcullis ≤ 1.1× node-pipes, ≤ 1.0× ssh -L',
    met: both(
      m['node-pipes'] === undefined ? undefined : compare(p, (v) => v <= 1.1 * (m['node-pipes'] as number)),
      m.ssh === undefined ? undefined : compare(p, (v) => v <= (m.ssh as number)),
    ),
  };
};

/** The figures of the "against plain forwarders" section, and the one the issue sets a target on. */
export const PIPE_SECTION_FIGURES: readonly { id: string; target?: (m: Medians) => TargetCheck }[] = Object.freeze([
  { id: 'pingP50', target: pipeTarget },
  { id: 'findOneP50' },
  { id: 'rawRoundTripP50' },
]);

/**
 * The issue "End-to-end encryption": with the inner TLS, ping p50 at most 1.1× `ssh -L` (which encrypts too) and bulk
 * read at least 80% of direct, as ratios within one run; on the product path (`portcullis gateway start`, plain HTTP
 * outside, so that only the inner TLS encrypts, as only ssh's does on the other side).
 */
export const innerTlsPingTarget = (m: Medians): TargetCheck => ({
  text: 'Portcullis ≤ 1.1× ssh -L',
  met: m.ssh === undefined ? undefined : compare(m.portcullis, (v) => v <= 1.1 * (m.ssh as number)),
});

/** The figures of the end-to-end encryption section, with the targets. */
export const INNER_TLS_SECTION_FIGURES: readonly { id: string; target?: (m: Medians) => TargetCheck }[] = Object.freeze([
  { id: 'pingP50', target: innerTlsPingTarget },
  { id: 'findOneP50' },
  { id: 'readMBps', target: throughputTarget },
]);

/**
 * The issue "Log storage off the relay's path": the spool costs at most 5% of ping p50, spool on against spool off in
 * the same run, both sides the same gateway program (bench/children/gateway-agent.ts) so that only the spool differs.
 */
export const SPOOL_MAX_RATIO = 1.05;

export const spoolTarget = (m: Medians): TargetCheck => ({
  text: `spool on ≤ ${SPOOL_MAX_RATIO.toFixed(2)}× spool off`,
  met:
    m['portcullis-no-spool'] === undefined
      ? undefined
      : compare(m['portcullis-spool'], (v) => v <= SPOOL_MAX_RATIO * (m['portcullis-no-spool'] as number)),
});

/**
 * The figures of the section "Control plane replicas behind HAProxy" (`--replicas`): the concurrency workload's
 * throughput and errors (also in the main table) and its findOne p99 (only there), on 3 replicas against 1.
 */
export const REPLICA_SECTION_FIGURES: readonly string[] = Object.freeze([
  'concurrentOpsPerSec',
  'concurrentFindOneP99Ms',
  'concurrentErrors',
]);

export const FIGURES: readonly FigureSpec[] = Object.freeze([
  { id: 'pingP50', workload: 'roundtrip', label: 'ping p50', unit: 'µs', better: 'lower', digits: 0, target: latencyTarget },
  { id: 'pingP99', workload: 'roundtrip', label: 'ping p99', unit: 'µs', better: 'lower', digits: 0 },
  { id: 'findOneP50', workload: 'roundtrip', label: 'findOne p50', unit: 'µs', better: 'lower', digits: 0, target: latencyTarget },
  { id: 'findOneP99', workload: 'roundtrip', label: 'findOne p99', unit: 'µs', better: 'lower', digits: 0 },
  { id: 'readMBps', workload: 'bulkread', label: 'bulk read', unit: 'MB/s', better: 'higher', digits: 1, target: throughputTarget },
  {
    id: 'writeDocsPerSec',
    workload: 'bulkwrite',
    label: 'bulk write',
    unit: 'docs/s',
    better: 'higher',
    digits: 0,
    target: throughputTarget,
  },
  { id: 'concurrentOpsPerSec', workload: 'concurrency', label: 'concurrent findOne', unit: 'ops/s', better: 'higher', digits: 0 },
  {
    id: 'concurrentFindOneP99Ms',
    workload: 'concurrency',
    label: 'concurrent findOne p99',
    // Under 200 connections a lookup waits hundreds of ms to seconds in FerretDB's queue.
    unit: 'ms',
    better: 'lower',
    digits: 0,
    section: 'replicas',
  },
  {
    id: 'concurrentErrors',
    workload: 'concurrency',
    label: 'concurrent errors',
    unit: 'errors',
    better: 'lower',
    digits: 0,
    target: (m) => ({ text: '0 on every path', met: Object.values(m).every((v) => v === 0) }),
  },
  {
    id: 'gatewayPeakRssMiB',
    workload: 'concurrency',
    label: 'gateway peak RSS',
    unit: 'MiB',
    better: 'lower',
    digits: 0,
    target: (m) => ({ text: '< 200 MB', met: compare(m.portcullis, (v) => v * 2 ** 20 < 200e6) }),
  },
  { id: 'controlPlanePeakRssMiB', workload: 'concurrency', label: 'control plane peak RSS', unit: 'MiB', better: 'lower', digits: 0 },
  { id: 'proxyPeakRssMiB', workload: 'concurrency', label: 'local proxy peak RSS', unit: 'MiB', better: 'lower', digits: 0 },
  {
    id: 'setupP50Ms',
    workload: 'setup',
    label: 'session setup p50',
    unit: 'ms',
    better: 'lower',
    digits: 0,
    target: (m) => ({ text: '< 500 ms', met: compare(m.portcullis, (v) => v < 500) }),
  },
  { id: 'setupMaxMs', workload: 'setup', label: 'session setup max', unit: 'ms', better: 'lower', digits: 0 },
  { id: 'rawRoundTripP50', workload: 'raw', label: 'raw echo round trip p50', unit: 'µs', better: 'lower', digits: 0 },
  { id: 'rawRoundTripP99', workload: 'raw', label: 'raw echo round trip p99', unit: 'µs', better: 'lower', digits: 0 },
  { id: 'rawMBps', workload: 'raw', label: 'raw echo throughput', unit: 'MB/s', better: 'higher', digits: 1 },
  {
    id: 'spoolPingP50',
    workload: 'spool',
    label: 'ping p50',
    unit: 'µs',
    better: 'lower',
    digits: 0,
    target: spoolTarget,
    section: 'spool',
  },
  {
    id: 'spoolEmptyFindP50',
    workload: 'spool',
    label: 'find (empty collection) p50',
    unit: 'µs',
    better: 'lower',
    digits: 0,
    section: 'spool',
  },
  { id: 'spoolFindOneP50', workload: 'spool', label: 'findOne p50', unit: 'µs', better: 'lower', digits: 0, section: 'spool' },
  { id: 'logHeavyFindOneP50', workload: 'logheavy', label: 'findOne p50', unit: 'µs', better: 'lower', digits: 0, section: 'logheavy' },
  { id: 'logHeavyFindOneP99', workload: 'logheavy', label: 'findOne p99', unit: 'µs', better: 'lower', digits: 0, section: 'logheavy' },
  { id: 'logHeavyPingP50', workload: 'logheavy', label: 'ping p50', unit: 'µs', better: 'lower', digits: 0, section: 'logheavy' },
  { id: 'logHeavyPingP99', workload: 'logheavy', label: 'ping p99', unit: 'µs', better: 'lower', digits: 0, section: 'logheavy' },
  {
    id: 'logHeavyCommandsPerSec',
    workload: 'logheavy',
    label: 'background logged commands',
    unit: '/s',
    better: 'higher',
    digits: 0,
    section: 'logheavy',
  },
]);
