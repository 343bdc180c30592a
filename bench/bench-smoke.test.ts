/**
 * A short run of `npm run bench` (a few dozen operations per path, one repetition) so that the benchmark keeps
 * working as the parts change. No timing is asserted: only that every workload ran on every path, without errors,
 * and that the table carries every figure. The full benchmark is `npm run bench` (see bench/README.md).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { describe, it } from 'node:test';
import { freePort } from '../test/bed/ports';
import { SSH_BIN, startSshd } from '../test/bed/sshd';
import { runBench } from './bench-runner';
import { FIGURES } from './figures';
import {
  INNER_TLS_PATHS,
  PATH_NAMES,
  type PathName,
  PORTCULLIS_PATHS,
  parseBenchOptions,
  REPLICA_PATHS,
  VARIANT_PATHS,
  WORKLOAD_NAMES,
} from './options';

/** The paths of the main table; the variants only run the workloads that compare against them. */
const BASE_PATHS = PATH_NAMES.filter((path) => !VARIANT_PATHS.includes(path));

function expectedPaths(figure: (typeof FIGURES)[number]): PathName[] {
  if (figure.section === 'spool') return ['portcullis', 'portcullis-spool', 'portcullis-no-spool'];
  if (figure.section === 'logheavy') return ['portcullis', 'portcullis-main-thread'];
  if (figure.workload === 'setup') return ['portcullis'];
  if (/RssMiB$/.test(figure.id)) return [...PORTCULLIS_PATHS];
  // The end-to-end encryption section's pair runs the round trip and the bulk read too.
  if (figure.workload === 'roundtrip' || figure.workload === 'bulkread') return [...BASE_PATHS, ...INNER_TLS_PATHS];
  return [...BASE_PATHS];
}

describe('the OpenSSH test bed', () => {
  it('forwards a local port to a target with ssh -L, and refuses a client without the generated key', async () => {
    const echo = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const echoPort = (echo.address() as { port: number }).port;
    const sshd = await startSshd();
    try {
      const forward = await sshd.forward(await freePort(), '127.0.0.1', echoPort);
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect(forward.port, '127.0.0.1', () => socket.write('through the tunnel'));
        socket.once('data', (data) => {
          socket.destroy();
          resolve(data.toString());
        });
        socket.once('error', reject);
      });
      assert.equal(reply, 'through the tunnel');
      await forward.stop();

      const refused = spawnSync(
        SSH_BIN,
        [
          '-F',
          '/dev/null',
          '-p',
          String(sshd.port),
          '-o',
          'BatchMode=yes',
          '-o',
          'StrictHostKeyChecking=no',
          '-o',
          'UserKnownHostsFile=/dev/null',
          '-o',
          'IdentitiesOnly=yes',
          '-o',
          'IdentityFile=/dev/null',
          `${sshd.user}@127.0.0.1`,
          'true',
        ],
        { encoding: 'utf8', timeout: 20_000 },
      );
      assert.notEqual(refused.status, 0);
      assert.match(refused.stderr, /Permission denied/);
    } finally {
      await sshd.stop();
      echo.close();
    }
  });
});

describe('npm run bench, scaled down', () => {
  it('runs every workload on every path without errors and prints every figure with its target', async () => {
    const options = parseBenchOptions(
      ['--scale', '0.004', '--repetitions', '1', '--connections', '10', '--log-connections', '4', '--no-save'],
      {},
      '',
    );
    assert.deepEqual(options.paths, [...PATH_NAMES]);
    assert.deepEqual(options.workloads, [...WORKLOAD_NAMES]);
    assert.equal(options.replicas, false);
    const lines: string[] = [];
    const result = await runBench(options, (line) => lines.push(line));

    for (const figure of FIGURES) {
      const byPath = result.samples.get(figure.id);
      assert.ok(byPath, `no ${figure.id} figure; log:\n${lines.join('\n')}`);
      assert.deepEqual([...byPath.keys()].sort(), expectedPaths(figure).sort(), figure.id);
      for (const [path, values] of byPath) {
        assert.equal(values.length, 1, `${figure.id} via ${path}`);
        assert.ok(Number.isFinite(values[0]) && values[0] >= 0, `${figure.id} via ${path} = ${values[0]}`);
      }
    }
    for (const path of BASE_PATHS) assert.deepEqual(result.samples.get('concurrentErrors')?.get(path), [0], path);
    for (const path of BASE_PATHS) assert.deepEqual(result.samples.get('connectionsOpened')?.get(path), [10], path);
    for (const path of ['portcullis', 'portcullis-main-thread'] as const) {
      assert.ok((result.samples.get('logHeavyCommandsPerSec')?.get(path)?.[0] ?? 0) > 0, `background load via ${path}`);
    }

    const header =
      '| workload | figure | direct | ssh -L | node-pipes | Portcullis | Portcullis HTTPS | Portcullis / direct | Portcullis / ssh -L | ' +
      'Portcullis / node-pipes | Portcullis HTTPS / ssh -L | target | result |';
    assert.ok(result.report.markdown.includes(header), result.report.markdown);
    // The issue's ratios: Portcullis and Portcullis HTTPS against node-pipes and ssh -L, with the target checked.
    assert.match(result.report.markdown, /## Round trip against plain forwarders/);
    assert.match(
      result.report.markdown,
      /\| ping p50 \| [\d,]+ µs \| [\d.]+× \| [\d.]+× \| [\d,]+ µs \| [\d.]+× \| [\d.]+× \| Portcullis ≤ 1\.1× node-pipes, ≤ 1\.0× ssh -L \| (met|\*\*MISSED\*\*) \|/,
    );
    // Spool on and off, with the issue's 5% target; the log-heavy figures after (writer thread) and before (main thread).
    assert.match(
      result.report.markdown,
      /## Spool on and off[\s\S]*\| ping p50 \| [\d,]+ µs \| [\d,]+ µs \| [\d.]+× \| [\d,]+ µs \| spool on ≤ 1\.05× spool off \| (met|\*\*MISSED\*\*) \|/,
    );
    assert.match(
      result.report.markdown,
      /## Log storage off the relay's path \(log-heavy\)[\s\S]*\| findOne p99 \| [\d,]+ µs \| [\d,]+ µs \| [\d.]+× \|/,
    );
    // What the inner TLS costs: the bench gateway with and without it, the product path against ssh -L and direct.
    assert.match(
      result.report.markdown,
      /## End-to-end encryption: what the inner TLS costs[\s\S]*\| ping p50 \| [\d,]+ µs \| [\d,]+ µs \| [\d.]+× \| [\d,]+ µs \| [\d,]+ µs \| [\d,]+ µs \| [\d.]+× \| [\d.]+× \| Portcullis ≤ 1\.1× ssh -L \| (met|\*\*MISSED\*\*) \|/,
    );
    assert.match(
      result.report.markdown,
      /## End-to-end encryption[\s\S]*\| bulk read \| [\d,.]+ MB\/s \| [\d,.]+ MB\/s \| [\d.]+× \| [\d,.]+ MB\/s \| [\d,.]+ MB\/s \| [\d,.]+ MB\/s \| [\d.]+× \| [\d.]+× \| ≥ 80% of direct \| (met|\*\*MISSED\*\*) \|/,
    );
    // The replicas section (and its findOne p99) only with --replicas.
    for (const figure of FIGURES.filter((f) => f.section !== 'replicas')) {
      assert.ok(result.report.markdown.includes(`| ${figure.label} |`), figure.label);
    }
    assert.doesNotMatch(result.report.markdown, /replica/i);
    assert.match(result.report.markdown, /2 cores|\d+ cores/);
    assert.equal(result.savedTo, null);
  });

  it('with --replicas, runs the concurrency workload through HAProxy on 1 and on 3 replicas on PostgreSQL, in a section of its own', async () => {
    const options = parseBenchOptions(
      [
        '--replicas',
        '--paths',
        'portcullis',
        '--workloads',
        'concurrency',
        '--scale',
        '0.004',
        '--repetitions',
        '1',
        '--connections',
        '10',
        '--no-save',
      ],
      {},
      '',
    );
    const lines: string[] = [];
    const result = await runBench(options, (line) => lines.push(line));
    const log = `log:\n${lines.join('\n')}`;
    const paths: PathName[] = ['portcullis', ...REPLICA_PATHS];
    for (const id of ['concurrentOpsPerSec', 'concurrentFindOneP99Ms', 'concurrentErrors', 'connectionsOpened']) {
      const byPath = result.samples.get(id);
      assert.ok(byPath, `no ${id} figure; ${log}`);
      assert.deepEqual([...byPath.keys()].sort(), [...paths].sort(), id);
      for (const [path, values] of byPath) assert.ok(values.length === 1 && Number.isFinite(values[0]), `${id} via ${path} = ${values}`);
    }
    for (const path of paths) {
      assert.deepEqual(result.samples.get('concurrentErrors')?.get(path), [0], `errors via ${path}; ${log}`);
      assert.deepEqual(result.samples.get('connectionsOpened')?.get(path), [10], path);
      assert.ok((result.samples.get('concurrentOpsPerSec')?.get(path)?.[0] ?? 0) > 0, path);
    }
    const { markdown } = result.report;
    // The main table keeps its columns; the replica paths have their own section.
    assert.match(markdown, /\| workload \| figure \| Portcullis \| target \| result \|/);
    assert.match(
      markdown,
      /## Control plane replicas behind HAProxy[\s\S]*\| figure \| 3 replicas \| 1 replica \| 3 ÷ 1 \| Portcullis \(SQLite, no balancer\) \| target \| result \|/,
    );
    assert.match(markdown, /\| concurrent findOne \| [\d,]+ ops\/s \| [\d,]+ ops\/s \| [\d.]+× \| [\d,]+ ops\/s \|/);
    assert.match(markdown, /\| concurrent findOne p99 \| [\d,]+ ms \| [\d,]+ ms \| [\d.]+× \| [\d,]+ ms \|/);
    assert.match(markdown, /\| concurrent errors \| 0 errors \| 0 errors \| – \| 0 errors \| 0 on every path \| met \|/);
  });

  it('--replicas (or BENCH_REPLICAS=1) adds the two replica paths, which --paths cannot choose, and needs the concurrency workload', () => {
    assert.deepEqual(parseBenchOptions(['--replicas', '--paths', 'direct'], {}, '').paths, ['direct', ...REPLICA_PATHS]);
    assert.deepEqual(parseBenchOptions(['--paths', 'direct'], { BENCH_REPLICAS: '1' }, '').paths, ['direct', ...REPLICA_PATHS]);
    assert.deepEqual(parseBenchOptions(['--paths', 'direct'], { BENCH_REPLICAS: '0' }, '').paths, ['direct']);
    assert.equal(parseBenchOptions([], {}, '').replicas, false);
    assert.throws(() => parseBenchOptions(['--paths', 'portcullis-replicas-3'], {}, ''), /unknown portcullis-replicas-3/);
    assert.throws(() => parseBenchOptions(['--replicas', '--workloads', 'roundtrip'], {}, ''), /--replicas runs the concurrency workload/);
    assert.throws(() => parseBenchOptions([], { BENCH_REPLICAS: 'maybe' }, ''), /BENCH_REPLICAS must be 1 or 0/);
  });

  it('rejects an unknown path or workload with a message that lists the choices', () => {
    assert.throws(
      () => parseBenchOptions(['--paths', 'direct,telnet'], {}, ''),
      /unknown telnet; choose from direct, ssh, node-pipes, portcullis, portcullis-https, portcullis-spool, portcullis-no-spool, portcullis-plain-tunnel, portcullis-main-thread/,
    );
    assert.throws(() => parseBenchOptions(['--scale', 'lots'], {}, ''), /--scale must be a number/);
    assert.deepEqual(parseBenchOptions([], { BENCH_SCALE: '0.5', BENCH_PATHS: 'ssh,direct' }, 'out').paths, ['direct', 'ssh']);
  });
});
