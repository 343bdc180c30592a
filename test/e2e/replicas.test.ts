/**
 * Several control-plane replicas on one PostgreSQL behind a real load balancer (issue 13): three `portcullis server`
 * processes, HAProxy in TCP mode with round-robin in front, a `portcullis gateway start` given only HAProxy's
 * address, FerretDB behind it, and the user's proxy (proxy-core) through HAProxy too. Every TCP connection of the
 * user goes to the next replica, so a replica without the gateway's channel shows at once (503 gateway_offline).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { type AccessHandle, startAccess } from '../../proxy-core/access';
import { ApiClient } from '../../proxy-core/api-client';
import { type FerretDBServer, startFerretDB } from '../bed/ferretdb';
import { type HaproxyServer, startHaproxy } from '../bed/haproxy';
import { freePort } from '../bed/ports';
import { type PostgresDatabase, startPostgres } from '../bed/postgres';
import { buildCli, CliRunner, type CliUser, newCliUser, type RunningCli, removeBuild } from './cli-harness';

const REPLICAS = 3;
const GRACE_SECONDS = 3;

describe('control plane replicas behind HAProxy on one PostgreSQL', () => {
  let bundle: string;
  let cli: CliRunner;
  let postgres: PostgresDatabase;
  let ferret: FerretDBServer;
  let haproxy: HaproxyServer;
  let ports: number[];
  const replicas: RunningCli[] = [];
  let serverUser: CliUser;
  let gatewayUser: CliUser;
  let gateway: RunningCli | undefined;
  let env: NodeJS.ProcessEnv;
  let api: ApiClient;
  let access: AccessHandle | undefined;
  let accountId: string;
  let token: string;
  let projectId: string;

  const startReplica = (i: number): RunningCli =>
    cli.start(serverUser, ['server', '--port', String(ports[i]), '--host', '127.0.0.1'], {
      env: { ...env, PORTCULLIS_REPLICA_URL: `http://127.0.0.1:${ports[i]}`, PORTCULLIS_DATA_DIR: join(serverUser.home, `data-${i}`) },
    });

  /** `count` new driver clients one after another, each its own streams through HAProxy; how many could ping. */
  async function pings(uri: string, count: number): Promise<{ ok: number; errors: string[] }> {
    let ok = 0;
    const errors: string[] = [];
    for (let i = 0; i < count; i++) {
      const client = new MongoClient(uri, { directConnection: true, maxPoolSize: 1, serverSelectionTimeoutMS: 8000, retryReads: false });
      try {
        await client.db('replicas').command({ ping: 1 });
        ok++;
      } catch (error) {
        errors.push((error as Error).message);
      } finally {
        await client.close(true);
      }
    }
    return { ok, errors };
  }

  before(async () => {
    bundle = await buildCli();
    cli = new CliRunner(bundle);
    [postgres, ferret] = await Promise.all([startPostgres(), startFerretDB()]);
    ports = await Promise.all(Array.from({ length: REPLICAS }, () => freePort()));
    haproxy = await startHaproxy(ports);
    serverUser = newCliUser('replicas');
    gatewayUser = newCliUser('replicas-gateway');
    env = {
      PORTCULLIS_DATABASE_URL: postgres.url,
      // Every replica decrypts what the others encrypted: one root key.
      PORTCULLIS_ROOT_KEY: randomBytes(32).toString('base64'),
      PORTCULLIS_PUBLIC_URL: haproxy.url,
      PORTCULLIS_GATEWAY_HEARTBEAT_SECONDS: '1',
      PORTCULLIS_GATEWAY_OFFLINE_GRACE_SECONDS: String(GRACE_SECONDS),
      PORTCULLIS_LOG: 'off',
    };
  });

  after(async () => {
    await access?.stop().catch(() => undefined);
    await gateway?.stop();
    await Promise.all(replicas.map((r) => r.stop()));
    await haproxy?.stop();
    await ferret?.stop();
    await postgres?.stop();
    if (bundle) removeBuild(bundle);
  });

  it('three replicas cold-started together all come up, register themselves, and one creates the first admin', async () => {
    for (let i = 0; i < REPLICAS; i++) replicas.push(startReplica(i));
    await Promise.all(replicas.map((r) => r.waitFor(/listening on/)));
    const admins = replicas.filter((r) => /Password:/.test(r.output()));
    assert.equal(admins.length, 1, replicas.map((r) => r.output()).join('\n---\n'));
    const [, email, password] = admins[0].output().match(/Email:\s+(\S+)\s*\n\s*Password:\s+(\S+)/) ?? [];
    api = new ApiClient({ server: haproxy.url });
    token = (await api.login({ email, password })).token;
    api.setToken(token);

    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    try {
      const live = await client.query('select id, url from replicas where lease_expires_at > $1 order by url', [new Date().toISOString()]);
      assert.deepEqual(
        live.rows.map((r) => r.url).sort(),
        ports.map((p) => `http://127.0.0.1:${p}`).sort(),
        'each replica registered the address gateways reach it at',
      );
    } finally {
      await client.end();
    }
  });

  it('a gateway given only the balancer’s address serves every stream through round-robin HAProxy', async (t) => {
    const [project] = await api.listProjects();
    projectId = project.id;
    const enrollment = await api.createEnrollmentToken({ projectId: project.id, name: 'gw-replicas' });
    writeFileSync(join(gatewayUser.home, 'enroll-token'), `${enrollment.token}\n`, { mode: 0o600 });
    gateway = cli.start(gatewayUser, [
      'gateway',
      'start',
      '--server',
      haproxy.url,
      '--token-file',
      'enroll-token',
      '--name',
      'gw-replicas',
    ]);
    await gateway.waitFor(/is running/);
    // One channel to each replica at its own address, learned from the channel through the balancer.
    for (const port of ports) await gateway.waitFor(new RegExp(`at http://127\\.0\\.0\\.1:${port}; opening a channel`));
    const [gw] = await api.listGateways(project.id);
    const resource = await api.createResource(project.id, {
      name: 'ferret',
      gatewayId: gw.id,
      connectionString: ferret.uri,
      authDatabase: 'admin',
      tlsEnabled: false,
    });
    const account = await api.createAccount(resource.id, {
      name: 'setup-admin',
      username: ferret.username,
      password: ferret.password,
      maxSessionDurationSeconds: 3600,
    });
    accountId = account.id;
    // The gateway's state reaches the database just after its welcome; access checks it there.
    const deadline = Date.now() + 10_000;
    while (!(await api.listGateways(project.id))[0].online && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    access = await startAccess({
      server: haproxy.url,
      token,
      accountId,
      clientAgent: 'replicas-test',
      pollIntervalMs: 1000,
    });
    const started = Date.now();
    const result = await pings(access.uri, 15);
    t.diagnostic(`15 clients (30+ streams over ${REPLICAS} replicas) in ${Date.now() - started} ms`);
    assert.equal(result.ok, 15, `every client reached the database: ${result.errors.join('; ')}\n${gateway.output()}`);
  });

  it('a replica restarted mid-session, or one the gateway cannot reach, ends no session; streams work through it again', async (t) => {
    assert.ok(access, 'the session of the previous test');
    const before = Date.now();
    await replicas[1].stop();
    // The stopped replica lost its channel; the others still have theirs, so the gateway is still online.
    const [gw] = await api.listGateways(projectId);
    assert.ok(gw.online, `the gateway stays online while one replica stops: ${JSON.stringify(gw)}`);
    replicas[1] = startReplica(1);
    await replicas[1].waitFor(/listening on/);
    t.diagnostic(`replica restarted in ${Date.now() - before} ms`);
    // Outside the balancer, at an address where nothing listens: the gateway never reaches it, so it never has the
    // gateway's channel. It must not take that for the gateway being offline (the database says otherwise).
    const unreachable = cli.start(serverUser, ['server', '--port', String(await freePort()), '--host', '127.0.0.1'], {
      env: { ...env, PORTCULLIS_REPLICA_URL: `http://127.0.0.1:${await freePort()}`, PORTCULLIS_DATA_DIR: join(serverUser.home, 'data-x') },
    });
    replicas.push(unreachable);
    await unreachable.waitFor(/listening on/);
    // Longer than the offline grace: a replica judging from its own memory would have ended the session by now.
    await new Promise((r) => setTimeout(r, (GRACE_SECONDS + 2) * 1000));
    const session = await api.getSession(access.session.id);
    assert.equal(session.state, 'active', `the session is still active: ${JSON.stringify(session)}`);
    await unreachable.stop();
    replicas.pop();
    const result = await pings(access.uri, 9);
    assert.equal(result.ok, 9, `every client reached the database after the restart: ${result.errors.join('; ')}`);
  });

  it('a stopped gateway has its session ended as gateway_offline, decided from the database', async () => {
    assert.ok(access && gateway);
    await gateway.stop();
    gateway = undefined;
    const deadline = Date.now() + (GRACE_SECONDS + 10) * 1000;
    let state = '';
    let reason: string | null | undefined;
    while (Date.now() < deadline) {
      const session = await api.getSession(access.session.id);
      state = session.state;
      reason = session.endReason;
      if (state !== 'active') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(reason, 'gateway_offline', `the session ended for the gateway (state ${state})`);
  });
});
