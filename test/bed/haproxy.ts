/**
 * A real HAProxy (Debian's `haproxy`, installed by scripts/setup-test-components.ts) on a random loopback port, in
 * TCP mode with round-robin over the given backends: each TCP connection goes to the next backend, and an HTTP
 * Upgrade passes through untouched (HAProxy never reads the bytes). Backends are health-checked (`GET /api/v1/health`)
 * every 300 ms so a stopped replica leaves the rotation and a restarted one comes back, as behind a production balancer.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports';
import { captureOutput, spawnTracked, stopProcess, trackTempDir } from './processes';

export const HAPROXY_BIN = '/usr/sbin/haproxy';

export interface HaproxyServer {
  port: number;
  url: string;
  stop(): Promise<void>;
}

export async function startHaproxy(backendPorts: number[]): Promise<HaproxyServer> {
  const dir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-haproxy-')));
  const port = await freePort();
  const config = [
    'global',
    '  maxconn 2000',
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    // Control channels and data streams are long-lived; the balancer must not cut them.
    '  timeout client 1h',
    '  timeout server 1h',
    // A connection to a backend that is down goes to another one.
    '  retries 2',
    '  option redispatch',
    'frontend portcullis',
    `  bind 127.0.0.1:${port}`,
    '  default_backend replicas',
    'backend replicas',
    '  balance roundrobin',
    // A replica in rotation is one that answers its health check (which needs its database), as in the README.
    '  option httpchk GET /api/v1/health',
    ...backendPorts.map((p, i) => `  server replica${i} 127.0.0.1:${p} check inter 300 fall 1 rise 1`),
    '',
  ].join('\n');
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  // -db: stay in the foreground, no daemon, so the test owns the process.
  const child = spawnTracked(HAPROXY_BIN, ['-db', '-f', file]);
  const output = captureOutput(child);
  try {
    await waitForPort(port, '127.0.0.1', 10_000, () => child.exitCode === null && child.signalCode === null);
  } catch (error) {
    await stopProcess(child);
    throw new Error(`HAProxy did not start: ${(error as Error).message}\n${output()}`);
  }
  return { port, url: `http://127.0.0.1:${port}`, stop: () => stopProcess(child) };
}
