/**
 * Nothing a session ran is missing from its log: an insert loop through the real tunnel while the gateway process
 * (then the control plane process) is killed with SIGKILL and started again, three rounds each. Every document in
 * the collection must have its insert in the session log (outcome ok, or unknown when its reply never came), and no
 * event may be stored twice. Processes are the built CLI (`portcullis server`, `portcullis gateway start`), as in
 * production; the local proxy runs in this process.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MongoClient, MongoServerError } from 'mongodb';
import { writeCredentialFile } from '../../gateway/agent/credential-file';
import { enrollGateway } from '../../gateway/agent/enroll';
import type { StoredSessionLogEvent } from '../../protocol/session-log';
import { type AccessHandle, startAccess } from '../../proxy-core/access';
import { ApiClient } from '../../proxy-core/api-client';
import { type FerretDBServer, startFerretDB } from '../bed/ferretdb';
import { freePort } from '../bed/ports';
import { trackTempDir } from '../bed/processes';
import { buildCli, CliRunner, type CliUser, newCliUser, type RunningCli, removeBuild } from '../e2e/cli-harness';

const ROUNDS = 3;
const INSERTS_PER_ROUND = 40;
const KILL_AT = 15;

let bundle: string;
let cli: CliRunner;
let host: CliUser;
let ferret: FerretDBServer;
let dataDir: string;
let port: number;
let url: string;
let server: RunningCli;
let gateway: RunningCli;
let credentialFile: string;
let api: ApiClient;
let accountId: string;
let token: string;

function startServer(): Promise<RegExpMatchArray> {
  server = cli.start(host, ['server', '--data-dir', dataDir, '--port', String(port)]);
  return server.waitFor(/listening on|running at|Password:\s+\S+/, 60_000);
}

async function startGateway(): Promise<void> {
  gateway = cli.start(host, ['gateway', 'start', '--credential-file', credentialFile]);
  await gateway.waitFor(/is running/, 60_000);
}

async function kill(process: RunningCli): Promise<void> {
  process.child.kill('SIGKILL');
  await process.exited();
}

/** Inserts one document, retrying through the outage; a duplicate key means an earlier attempt ran. */
async function insertThrough(client: MongoClient, collection: string, id: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      await client
        .db('audit')
        .collection(collection)
        .insertOne({ _id: id as never }, { comment: `ins ${id}` });
      return;
    } catch (error) {
      if (error instanceof MongoServerError && error.code === 11000) return;
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function allLogs(sessionId: string): Promise<StoredSessionLogEvent[]> {
  const out: StoredSessionLogEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.getSessionLogs(sessionId, { cursor, limit: 1000 });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** Every document has its insert in the log (ok or unknown), and no event is stored twice. */
async function assertEveryInsertLogged(sessionId: string, collection: string): Promise<void> {
  const direct = new MongoClient(ferret.adminUri);
  let ids: string[];
  try {
    ids = (await direct.db('audit').collection(collection).find({}).toArray()).map((d) => String(d._id));
  } finally {
    await direct.close();
  }
  assert.ok(ids.length >= ROUNDS * INSERTS_PER_ROUND, `only ${ids.length} documents`);
  let missing: string[] = [];
  let events: StoredSessionLogEvent[] = [];
  const deadline = Date.now() + 60_000;
  do {
    events = await allLogs(sessionId);
    const logged = new Set<string>();
    for (const event of events) {
      if (event.kind !== 'command' || event.command !== 'insert' || event.outcome === 'error') continue;
      const match = event.input.match(/"comment":"ins ([^"]+)"/);
      if (match) logged.add(match[1]);
    }
    missing = ids.filter((id) => !logged.has(id));
    if (missing.length > 0) await new Promise((r) => setTimeout(r, 500));
  } while (missing.length > 0 && Date.now() < deadline);
  assert.deepEqual(missing, [], `documents without an insert in the session log (of ${ids.length})`);
  const seen = new Set<string>();
  for (const { seq: _seq, ...event } of events) {
    const key = JSON.stringify(event);
    assert.ok(!seen.has(key), `stored twice: ${key}`);
    seen.add(key);
  }
}

async function runRounds(collection: string, victim: () => RunningCli, restart: () => Promise<unknown>): Promise<string> {
  const handle: AccessHandle = await startAccess({ server: url, token, accountId, clientAgent: 'durability-test', pollIntervalMs: 500 });
  const client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 60_000, retryWrites: false, maxPoolSize: 2 });
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < INSERTS_PER_ROUND; i++) {
        if (i === KILL_AT) {
          // Mid-loop, with the previous insert's events possibly not yet uploaded.
          const pending = insertThrough(client, collection, `r${round}-${i}`);
          await new Promise((r) => setTimeout(r, 2));
          await kill(victim());
          await restart();
          await pending;
          continue;
        }
        await insertThrough(client, collection, `r${round}-${i}`);
      }
    }
    return handle.session.id;
  } finally {
    await client.close().catch(() => {});
    await handle.stop().catch(() => {});
  }
}

describe('security: audit durability when the gateway or the control plane is killed', () => {
  before(async () => {
    [bundle, ferret] = await Promise.all([buildCli(), startFerretDB()]);
    cli = new CliRunner(bundle);
    host = newCliUser('durability');
    dataDir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-durability-')));
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    await startServer();
    // The first start prints the one-time sign-in after "listening on": wait for it rather than read once.
    const sign = await server.waitFor(/Email:\s+(\S+)\s*\n\s*Password:\s+(\S+)/, 60_000);
    api = new ApiClient({ server: url });
    ({ token } = await api.login({ email: sign[1], password: sign[2] }));
    api.setToken(token);
    const [project] = await api.listProjects();
    const enrollment = await api.createEnrollmentToken({ projectId: project.id, name: 'durable-gateway' });
    const enrolled = await enrollGateway({ server: url, token: enrollment.token, name: 'durable-gateway' });
    const gatewayDir = join(host.home, 'gateway');
    mkdirSync(gatewayDir, { recursive: true, mode: 0o700 });
    credentialFile = join(gatewayDir, 'gateway-credential.json');
    writeCredentialFile(credentialFile, { server: url, gatewayId: enrolled.gatewayId, credential: enrolled.credential });
    await startGateway();
    const resource = await api.createResource(project.id, {
      name: 'ferret',
      gatewayId: enrolled.gatewayId,
      connectionString: ferret.uri,
      authDatabase: 'admin',
      tlsEnabled: false,
    });
    const account = await api.createAccount(resource.id, {
      name: 'writer',
      username: ferret.username,
      password: ferret.password,
      maxSessionDurationSeconds: 3600,
    });
    accountId = account.id;
  });
  after(async () => {
    await gateway?.stop().catch(() => {});
    await server?.stop().catch(() => {});
    await ferret?.stop();
    if (bundle) removeBuild(bundle);
  });

  it(`gateway killed with SIGKILL mid-loop, ${ROUNDS} times: every inserted document is in the log, once`, async () => {
    const sessionId = await runRounds('gateway_kill', () => gateway, startGateway);
    await assertEveryInsertLogged(sessionId, 'gateway_kill');
  });

  it(`control plane killed with SIGKILL mid-loop, ${ROUNDS} times: the gateway keeps its spool until it is back`, async () => {
    const sessionId = await runRounds('server_kill', () => server, startServer);
    await assertEveryInsertLogged(sessionId, 'server_kill');
  });
});
