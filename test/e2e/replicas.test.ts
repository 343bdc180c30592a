/**
 * Several control-plane replicas on one PostgreSQL behind a real load balancer (issue 13): three `portcullis server`
 * processes, HAProxy in TCP mode with round-robin in front, a `portcullis gateway start` given only HAProxy's
 * address, FerretDB behind it, and the user's proxy (proxy-core) through HAProxy too. Every TCP connection of the
 * user goes to the next replica, so whatever one replica keeps to itself shows: a stream refused, a termination
 * that does not cut, a session ended idle while another replica carries its connection, a limit counted per
 * replica. Short settings (1 s heartbeats, 2 s offline grace, 4 s idle timeout) keep it within about a minute.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { RawWireClient, replyBody } from '../../gateway/test/harness';
import { element, rawOpMsg } from '../../gateway/test/raw-messages';
import type { HealthDto } from '../../protocol/api';
import type { StoredSessionLogEvent } from '../../protocol/session-log';
import { type AccessHandle, startAccess } from '../../proxy-core/access';
import { ApiClient } from '../../proxy-core/api-client';
import { type FerretDBServer, startFerretDB } from '../bed/ferretdb';
import { type HaproxyServer, startHaproxy } from '../bed/haproxy';
import { freePort } from '../bed/ports';
import { type PostgresDatabase, startPostgres } from '../bed/postgres';
import { buildCli, CliRunner, type CliUser, newCliUser, type RunningCli, removeBuild } from './cli-harness';

const REPLICAS = 3;
const GRACE_SECONDS = 2;
// Longer than the grace: a session whose gateway stops loses its connections at once, and must end gateway_offline.
const IDLE_SECONDS = 4;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

let requestId = 1;

/** One ping on a raw connection (one relay stream); resolves when the database answered. */
async function ping(client: RawWireClient, timeoutMs = 8000): Promise<void> {
  client.send(rawOpMsg([element('ping', 1), element('$db', 'admin')], { requestId: requestId++ }));
  assert.equal(replyBody(await client.next(timeoutMs)).ok, 1);
}

/** `count` new connections to the local proxy one after another, each one relay stream through HAProxy; how many could ping. */
async function streamPings(port: number, count: number): Promise<{ ok: number; errors: string[] }> {
  let ok = 0;
  const errors: string[] = [];
  for (let i = 0; i < count; i++) {
    let client: RawWireClient | undefined;
    try {
      client = await RawWireClient.open(port);
      await ping(client);
      ok++;
    } catch (error) {
      errors.push((error as Error).message);
    } finally {
      client?.socket.destroy();
    }
  }
  return { ok, errors };
}

/** POST /auth/login on a TCP connection of its own (so the balancer sends it to the next replica). */
function signInOnNewConnection(base: string, email: string, password: string): Promise<number> {
  const data = JSON.stringify({ email, password });
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${base}/api/v1/auth/login`,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(data);
  });
}

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
  let keeper: MongoClient | undefined;
  const others: AccessHandle[] = [];
  let accountId: string;
  let token: string;
  let projectId: string;

  const replicaUrl = (i: number) => `http://127.0.0.1:${ports[i]}`;
  const startReplica = (i: number): RunningCli =>
    cli.start(serverUser, ['server', '--port', String(ports[i]), '--host', '127.0.0.1'], {
      env: { ...env, PORTCULLIS_REPLICA_URL: replicaUrl(i), PORTCULLIS_DATA_DIR: join(serverUser.home, `data-${i}`) },
    });
  const healthOf = (i: number): Promise<HealthDto> => new ApiClient({ server: replicaUrl(i) }).health();
  const newSession = () => startAccess({ server: haproxy.url, token, accountId, clientAgent: 'replicas-test', pollIntervalMs: 1000 });

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
      PORTCULLIS_IDLE_TIMEOUT_SECONDS: String(IDLE_SECONDS),
      PORTCULLIS_LOG: 'off',
    };
  });

  after(async () => {
    await keeper?.close(true).catch(() => undefined);
    for (const handle of others) await handle.stop().catch(() => undefined);
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
    // "Press Ctrl+C" comes after the one-time sign-in, which a replica prints after "listening on".
    await Promise.all(replicas.map((r) => r.waitFor(/Press Ctrl\+C to stop/)));
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
      // Each replica's health names itself and, once its next renewal has read the others, all three.
      const ids = live.rows.map((r) => r.id).sort();
      for (let i = 0; i < REPLICAS; i++) {
        const health = await until(async () => {
          const h = await healthOf(i);
          return h.replicas.length === REPLICAS ? h : undefined;
        }, `replica ${i} to see all three`);
        assert.ok(ids.includes(health.replicaId));
        assert.deepEqual(health.replicas.map((r) => r.id).sort(), ids);
      }
    } finally {
      await client.end();
    }
  });

  it('a gateway given only the balancer’s address serves 30 of 30 streams through round-robin HAProxy', async (t) => {
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
    await until(async () => (await api.listGateways(project.id))[0].online, 'the gateway to be online');
    for (let i = 0; i < REPLICAS; i++) {
      await until(async () => (await healthOf(i)).connectedGateways === 1, `replica ${i} to have the gateway's channel`);
    }
    access = await newSession();
    const started = Date.now();
    const result = await streamPings(access.port, 30);
    t.diagnostic(`30 streams over ${REPLICAS} replicas in ${Date.now() - started} ms`);
    assert.equal(result.ok, 30, `every stream reached the database: ${result.errors.join('; ')}\n${gateway.output()}`);
    // The session's own client from here on: connections open (and a hello every second) keep it from going idle
    // through the restarts and the kill below.
    keeper = new MongoClient(access.uri, { directConnection: true, heartbeatFrequencyMS: 1000, serverSelectionTimeoutMS: 8000 });
    await keeper.db('replicas').command({ ping: 1 });
  });

  it('a terminate sent to a replica the gateway has no channel with cuts the session’s connections on the others within a second', async (t) => {
    // A replica outside the balancer, registered at an address where nothing listens: the gateway never reaches it,
    // so only the database (its NOTIFY) can tell the replicas carrying the streams, and through them the gateway.
    const [port, unreachableUrl] = [await freePort(), `http://127.0.0.1:${await freePort()}`];
    const outside = cli.start(serverUser, ['server', '--port', String(port), '--host', '127.0.0.1'], {
      env: { ...env, PORTCULLIS_REPLICA_URL: unreachableUrl, PORTCULLIS_DATA_DIR: join(serverUser.home, 'data-outside') },
    });
    try {
      await outside.waitFor(/listening on/);
      const handle = await newSession();
      others.push(handle);
      const before = await Promise.all(ports.map((_, i) => healthOf(i)));
      const clients: RawWireClient[] = [];
      for (let i = 0; i < 6; i++) {
        const client = await RawWireClient.open(handle.port);
        await ping(client);
        clients.push(client);
      }
      const added = (await Promise.all(ports.map((_, i) => healthOf(i)))).map((h, i) => h.streams - before[i].streams);
      assert.equal(
        added.reduce((a, b) => a + b, 0),
        6,
        `the connections are on the balanced replicas: ${added}`,
      );
      const outsideApi = new ApiClient({ server: `http://127.0.0.1:${port}` });
      outsideApi.setToken(token);
      assert.equal((await outsideApi.health()).connectedGateways, 0, 'the gateway has no channel with the replica that terminates');

      const started = Date.now();
      await outsideApi.terminateSession(handle.session.id);
      const answered = Date.now();
      await until(() => clients.every((c) => c.closed), 'every connection of the session to be cut', 5000);
      const cutMs = Date.now() - answered;
      t.diagnostic(
        `streams on replicas 0/1/2: +${added.join('/+')}; all cut ${cutMs} ms after the terminate answered (${answered - started} ms to answer)`,
      );
      assert.ok(cutMs <= 1000, `cut within a second of the termination, took ${cutMs} ms`);
      const session = await api.getSession(handle.session.id);
      assert.equal(session.state, 'terminated');
      // Nothing ran after the termination (the bug: `find`s logged after it).
      const logs = await api.getSessionLogs(handle.session.id);
      const late = logs.items.filter((e) => e.kind === 'command' && e.time > (session.endedAt ?? ''));
      assert.deepEqual(late, [], 'no command ran after the termination');
    } finally {
      await outside.stop();
    }
  });

  it(`a quiet connection outlives twice the idle timeout (${IDLE_SECONDS} s) whichever replica sweeps; closed, the session ends idle`, async () => {
    const handle = await newSession();
    others.push(handle);
    const quiet = await RawWireClient.open(handle.port);
    await ping(quiet);
    await sleep(2 * IDLE_SECONDS * 1000 + 1000);
    assert.equal((await api.getSession(handle.session.id)).state, 'active', 'the quiet connection kept the session');
    await ping(quiet);
    quiet.socket.destroy();
    const ended = await until(
      async () => {
        const session = await api.getSession(handle.session.id);
        return session.state === 'active' ? undefined : session;
      },
      'the session to end once its last connection closed',
      (IDLE_SECONDS + 5) * 1000,
    );
    assert.equal(ended.endReason, 'idle');
  });

  it('the sign-in limit is shared by the replicas: through round-robin, the sixth failure in a row is refused', async () => {
    const email = `nobody-${randomBytes(4).toString('hex')}@example.com`;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push(await signInOnNewConnection(haproxy.url, email, `wrong-${i}`));
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
    // And on each replica directly, whichever the balancer did not pick last.
    for (let i = 0; i < REPLICAS; i++) assert.equal(await signInOnNewConnection(replicaUrl(i), email, 'wrong'), 429);
  });

  it('a replica restarted mid-session, or one the gateway cannot reach, ends no session; streams work through it again', async (t) => {
    assert.ok(access, 'the session of the earlier test');
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
    // Longer than the offline grace and the idle timeout: a replica judging from its own memory would have ended
    // the session by now.
    await sleep((Math.max(GRACE_SECONDS, IDLE_SECONDS) + 2) * 1000);
    const session = await api.getSession(access.session.id);
    assert.equal(session.state, 'active', `the session is still active: ${JSON.stringify(session)}`);
    await unreachable.stop();
    replicas.pop();
    const result = await streamPings(access.port, 9);
    assert.equal(result.ok, 9, `every stream reached the database after the restart: ${result.errors.join('; ')}`);
  });

  it('after SIGKILL of a replica mid-session, new streams work within 2 s, the session stays active, and no log event is lost or stored twice', async (t) => {
    assert.ok(access && keeper);
    const marker = `kill-${randomBytes(4).toString('hex')}`;
    const collection = keeper.db('replicas').collection<{ _id: number; marker: string }>('writes');
    const acknowledged: number[] = [];
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        try {
          await collection.insertOne({ _id: i, marker });
          acknowledged.push(i);
        } catch {
          // A write cut with its replica; the driver's retry (or the next one) goes on through the others.
        }
      }
    })();
    await sleep(500);
    // The replica carrying the most streams now, so that the kill cuts some of this session's connections.
    const streams = await Promise.all(ports.map((_, i) => healthOf(i).then((h) => h.streams)));
    const victim = streams.indexOf(Math.max(...streams));
    const killedAt = Date.now();
    replicas[victim].child.kill('SIGKILL');
    await replicas[victim].exited();
    let recoveredMs = 0;
    await until(
      async () => {
        const result = await streamPings(access!.port, 1);
        if (result.ok === 1) recoveredMs = Date.now() - killedAt;
        return result.ok === 1;
      },
      'a new stream to work after the kill',
      5000,
    );
    await sleep(1000);
    writing = false;
    await writer;
    t.diagnostic(
      `killed replica ${victim} (${streams[victim]} streams); new streams worked ${recoveredMs} ms later; ${acknowledged.length} inserts acknowledged`,
    );
    assert.ok(recoveredMs <= 2000, `new streams within 2 s of the kill, took ${recoveredMs} ms`);
    assert.ok(acknowledged.length > 0);
    // Past the dead replica's lease and the offline grace: nothing ended the session.
    await sleep(Math.max(GRACE_SECONDS, 3) * 1000);
    assert.equal((await api.getSession(access.session.id)).state, 'active');

    const insertsOf = (events: StoredSessionLogEvent[]) =>
      events.filter((e) => e.kind === 'command' && e.command === 'insert' && e.input.includes(marker));
    let events: StoredSessionLogEvent[] = [];
    await until(
      async () => {
        events = [];
        let cursor: string | undefined;
        do {
          const page = await api.getSessionLogs(access!.session.id, { cursor, limit: 500 });
          events.push(...page.items);
          cursor = page.nextCursor;
        } while (cursor);
        const ok = new Set(insertsOf(events).flatMap((e) => (e.kind === 'command' && e.outcome === 'ok' ? [e.input] : [])));
        return ok.size >= acknowledged.length;
      },
      'the log to hold every acknowledged insert',
      15_000,
    );
    // A batch stored twice would show as the same events again under new sequence numbers.
    const keys = events.map(({ seq: _, ...event }) => JSON.stringify(event));
    assert.equal(new Set(keys).size, keys.length, 'no event stored twice');
    for (const id of acknowledged) {
      const stored = insertsOf(events).filter(
        (e) => e.kind === 'command' && e.outcome === 'ok' && new RegExp(`"_id":${id}[,}]`).test(e.input),
      );
      assert.equal(stored.length, 1, `insert ${id} is in the log once as done: ${JSON.stringify(stored)}`);
    }
  });

  it('a stopped gateway has its session ended as gateway_offline once, decided from the database', async () => {
    assert.ok(access && gateway);
    const endedBefore = await Promise.all(others.map((h) => api.getSession(h.session.id)));
    await keeper?.close(true);
    keeper = undefined;
    await gateway.stop();
    gateway = undefined;
    const ended = await until(
      async () => {
        const session = await api.getSession(access!.session.id);
        return session.state === 'active' ? undefined : session;
      },
      'the session to end after the gateway stopped',
      (GRACE_SECONDS + 10) * 1000,
    );
    assert.equal(ended.endReason, 'gateway_offline', `the session ended for the gateway (state ${ended.state})`);
    // Every replica sweeps; one ends it, and nothing ends it (or the sessions that ended before) again.
    await sleep(2000);
    assert.deepEqual(await api.getSession(access.session.id), ended);
    assert.deepEqual(await Promise.all(others.map((h) => api.getSession(h.session.id))), endedBefore);
  });
});
