/**
 * The control plane of a bench stack, started as a deployment starts it: one `portcullis server` on its own SQLite
 * database, reached directly; or several replicas sharing one PostgreSQL database behind HAProxy (TCP mode,
 * round-robin: test/bed/haproxy.ts), each with the same root key, a data folder of its own, its own address registered
 * for gateways (PORTCULLIS_REPLICA_URL), and HAProxy's as the public one (see ARCHITECTURE.md, "Several replicas").
 * Either way the first admin's one-time password is read from the output of the process that created it.
 */
import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { join } from 'node:path';
import { API_PREFIX, type HealthDto } from '../protocol/api';
import { type HaproxyServer, startHaproxy } from '../test/bed/haproxy';
import { freePort } from '../test/bed/ports';
import { type NodeChild, startNodeChild } from './node-child';

export interface ControlPlane {
  /** The address users and gateways are given: the control plane itself, or HAProxy in front of the replicas. */
  url: string;
  /** The `portcullis server` processes, one per replica. */
  pids: number[];
  /** Each replica's own address (what it registers for gateways); one entry for a single control plane. */
  replicaUrls: string[];
  /** The bootstrap admin, as printed once by the control plane that created it. */
  admin: { email: string; password: string };
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** The CLI bundle (`portcullis server`). */
  cli: string;
  /** The stack's temporary folder: data folders go under it. */
  dir: string;
  env: NodeJS.ProcessEnv;
  /** Node flags writing a CPU profile under a folder named after `label` (none when not profiling). */
  profile(label: string): string[];
  /** Several replicas on this PostgreSQL database behind HAProxy; without it, one control plane on SQLite. */
  replicas?: { databaseUrl: string; count: number };
}

const ADMIN_TIMEOUT_MS = 60_000;

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  return options.replicas ? startReplicas(options, options.replicas) : startSingle(options);
}

async function startSingle(options: ControlPlaneOptions): Promise<ControlPlane> {
  const port = await freePort();
  const child = startNodeChild(
    options.cli,
    ['server', '--data-dir', join(options.dir, 'data'), '--port', String(port), '--host', '127.0.0.1'],
    { label: 'control plane', env: options.env, nodeArgs: options.profile('control-plane') },
  );
  try {
    const url = (await child.waitFor(/listening on (\S+)/))[1];
    return { url, pids: [child.pid], replicaUrls: [url], admin: await bootstrapAdmin([child]), stop: () => child.stop() };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

async function startReplicas(options: ControlPlaneOptions, replicas: { databaseUrl: string; count: number }): Promise<ControlPlane> {
  // Probed at the same time, so that no two replicas are handed the same port.
  const ports = await Promise.all(Array.from({ length: replicas.count }, () => freePort()));
  const haproxy: HaproxyServer = await startHaproxy(ports);
  const children: NodeChild[] = [];
  const stop = async () => {
    for (const child of children) await child.stop();
    await haproxy.stop();
  };
  try {
    const replicaUrls = ports.map((port) => `http://127.0.0.1:${port}`);
    const shared = {
      ...options.env,
      PORTCULLIS_DATABASE_URL: replicas.databaseUrl,
      // Every replica decrypts what the others encrypted: one root key.
      PORTCULLIS_ROOT_KEY: randomBytes(32).toString('base64'),
      PORTCULLIS_PUBLIC_URL: haproxy.url,
    };
    // Cold-started together, as the e2e test does: exactly one of them creates the first admin.
    for (const [i, port] of ports.entries()) {
      children.push(
        startNodeChild(
          options.cli,
          ['server', '--data-dir', join(options.dir, `data-${i}`), '--port', String(port), '--host', '127.0.0.1'],
          {
            label: `control plane replica ${i + 1} of ${replicas.count}`,
            env: { ...shared, PORTCULLIS_REPLICA_URL: replicaUrls[i] },
            nodeArgs: options.profile(`control-plane-${i + 1}`),
          },
        ),
      );
    }
    await Promise.all(children.map((child) => child.waitFor(/listening on/)));
    await untilBalanced(haproxy.url, replicas.count);
    return { url: haproxy.url, pids: children.map((c) => c.pid), replicaUrls, admin: await bootstrapAdmin(children), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * HAProxy started before the replicas, so its first checks marked them down; a replica is back in the rotation after
 * its next passed check, and until then HAProxy closes connections it has no replica for. Round-robin over the
 * replicas in rotation: once `count` different replicas have answered `/health` through it, all are in.
 */
async function untilBalanced(url: string, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  const seen = new Set<string>();
  for (;;) {
    try {
      const replicaId = await healthReplicaId(`${url}${API_PREFIX}/health`);
      if (replicaId) seen.add(replicaId);
      if (seen.size >= count) return;
    } catch {
      // closed by HAProxy: no replica in the rotation yet
    }
    if (Date.now() > deadline) {
      throw new Error(`only ${seen.size} of ${count} control plane replicas answered through HAProxy at ${url} within 10 s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The replica that answered `/health`, on a connection of its own (HAProxy keeps a connection on one replica). */
function healthReplicaId(url: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent: false, timeout: 5000 }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => {
        try {
          const body = response.statusCode === 200 ? (JSON.parse(text) as Partial<HealthDto>) : {};
          resolve(typeof body.replicaId === 'string' ? body.replicaId : undefined);
        } catch (error) {
          reject(error);
        }
      });
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error('no answer in 5 s')));
    request.on('error', reject);
  });
}

/** The email and one-time password the first admin was created with, from whichever process printed them. */
async function bootstrapAdmin(children: NodeChild[]): Promise<{ email: string; password: string }> {
  const deadline = Date.now() + ADMIN_TIMEOUT_MS;
  for (;;) {
    for (const child of children) {
      const match = child.output().match(/Email:\s+(\S+)\s*\n\s*Password:\s+(\S+)/);
      if (match) return { email: match[1], password: match[2] };
    }
    const exited = children.find((c) => c.child.exitCode !== null || c.child.signalCode !== null);
    if (exited) throw new Error(`a control plane (pid ${exited.pid}) exited before the first admin was printed`);
    if (Date.now() > deadline) throw new Error(`no control plane printed the first admin's password within ${ADMIN_TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
