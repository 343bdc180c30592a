/**
 * For the JSON API tests: a real control plane (real HTTP on a free port, real store: SQLite in a temp folder
 * or a fresh database on a real PostgreSQL), its captured log lines, a small fetch-based caller, and a seeded
 * world (two projects, an admin, a member, an outsider, an online gateway, a resource and an account).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import type { AccountDto, LoginResponse, MemberDto, ProjectDto, ResourceDto } from '../../protocol/api';
import type { GatewayEnrollResponse } from '../../protocol/gateway-channel';
import { type ControlPlaneConfig, resolveConfig } from '../../server/config';
import { type ControlPlane, type StartOptions, startControlPlane } from '../../server/control-plane';
import { createGatewayIdentity, type PemKeyPair } from '../../tunnel/certificates';
import { type PostgresDatabase, startPostgres } from '../bed/postgres';
import { captureOutput, spawnTracked, stopProcess } from '../bed/processes';

export type ApiDialect = 'sqlite' | 'postgres';

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** Sent as is (for malformed JSON). */
  rawBody?: string;
  headers?: Record<string, string>;
  /** Fails the call (and closes its connection) when the server has not answered within this many ms. */
  deadlineMs?: number;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON an endpoint answers
export interface CallResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface ApiServer {
  dialect: ApiDialect;
  cp: ControlPlane;
  /** http://127.0.0.1:PORT/api/v1 */
  base: string;
  /** Every line the server logged. */
  logs: string[];
  dataDir: string;
  /** The PostgreSQL database, when the dialect is postgres (another control plane can share it). */
  databaseUrl?: string;
  /** A movable clock: add milliseconds to move the server's time forward. */
  clock: { offsetMs: number };
  bootstrap: { email: string; password: string };
  // biome-ignore lint/suspicious/noExplicitAny: as above
  call<T = any>(method: string, path: string, options?: CallOptions): Promise<CallResult<T>>;
  login(email: string, password: string): Promise<string>;
  close(): Promise<void>;
}

export async function startApiServer(
  dialect: ApiDialect,
  overrides: Partial<ControlPlaneConfig> = {},
  options: StartOptions = {},
): Promise<ApiServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-api-'));
  let database: PostgresDatabase | undefined;
  if (dialect === 'postgres') database = await startPostgres();
  const logs: string[] = [];
  const clock = { offsetMs: 0 };
  const cp = await startControlPlane(
    resolveConfig({
      dataDir,
      listenPort: 0,
      databaseUrl: database?.url,
      logger: { write: (line: string) => logs.push(line) },
      ...overrides,
    }),
    { now: () => new Date(Date.now() + clock.offsetMs), ...options },
  );
  const base = `${cp.url}/api/v1`;
  const call = async <T>(method: string, path: string, options: CallOptions = {}): Promise<CallResult<T>> => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const signal = options.deadlineMs === undefined ? undefined : AbortSignal.timeout(options.deadlineMs);
    let response: Response;
    let text: string;
    try {
      response = await fetch(base + path, { method, headers, body, signal });
      text = await response.text();
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') {
        throw new Error(`${method} ${path} got no answer within ${options.deadlineMs} ms: the control plane hangs`);
      }
      throw error;
    }
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
  };
  if (!cp.bootstrapResult) throw new Error('a fresh control plane must bootstrap its first admin');
  return {
    dialect,
    cp,
    base,
    logs,
    dataDir,
    databaseUrl: database?.url,
    clock,
    bootstrap: cp.bootstrapResult,
    call,
    async login(email, password) {
      const result = await call<LoginResponse>('POST', '/auth/login', { body: { email, password } });
      if (result.status !== 200) throw new Error(`sign-in of ${email} failed: ${result.status} ${JSON.stringify(result.body)}`);
      return result.body.token;
    },
    async close() {
      await cp.close();
      await database?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs a suite once per dialect, each with its own server started in `before` and closed in `after`. */
export function describeApi(
  title: string,
  dialects: ApiDialect[],
  body: (get: () => ApiServer, dialect: ApiDialect) => void,
  overrides: Partial<ControlPlaneConfig> = {},
): void {
  // Tests mark gateways online once; a long heartbeat interval keeps them online for the whole suite.
  overrides = { gatewayHeartbeatSeconds: 3600, ...overrides };
  for (const dialect of dialects) {
    describe(`${title} [${dialect}]`, () => {
      let server: ApiServer | undefined;
      before(async () => {
        server = await startApiServer(dialect, overrides);
      });
      after(async () => {
        await server?.close();
      });
      body(() => {
        if (!server) throw new Error('the API server did not start');
        return server;
      }, dialect);
    });
  }
}

export const ACCOUNT_PASSWORD = 'Acc0unt-Pa55word-never-shown';
export const MEMBER_PASSWORD = 'Member-Pa55word-never-shown';

export interface World {
  projectId: string;
  adminToken: string;
  memberToken: string;
  member: MemberDto;
  memberEmail: string;
  /** Admin of another project, member of nothing here. */
  outsiderToken: string;
  outsiderEmail: string;
  /** A user who belongs to no project (tests add and remove them). */
  spareUserId: string;
  spareEmail: string;
  outsiderProjectId: string;
  gateway: GatewayEnrollResponse;
  resource: ResourceDto;
  account: AccountDto;
}

function expectStatus(result: CallResult, status: number, what: string): void {
  if (result.status !== status) throw new Error(`${what}: expected ${status}, got ${result.status} ${JSON.stringify(result.body)}`);
}

let worldCounter = 0;

/** Seeds the world through the API itself. The gateway is marked online the way the relay does it. */
export async function seedWorld(server: ApiServer): Promise<World> {
  const n = ++worldCounter;
  const adminToken = await server.login(server.bootstrap.email, server.bootstrap.password);
  const me = await server.call<{ projects: ProjectDto[] }>('GET', '/me', { token: adminToken });
  const projectId = me.body.projects.find((p) => p.name === 'default')!.id;
  const memberEmail = `member${n}@example.com`;
  const added = await server.call<MemberDto>('POST', `/projects/${projectId}/members`, {
    token: adminToken,
    body: { email: memberEmail, role: 'member', name: 'Member', password: MEMBER_PASSWORD },
  });
  expectStatus(added, 201, 'adding a member');
  const memberToken = await server.login(memberEmail, MEMBER_PASSWORD);

  // The outsider: a user of this server who administers a project of their own.
  const outsiderEmail = `outsider${n}@example.com`;
  const other = await server.call<ProjectDto>('POST', '/projects', { token: adminToken, body: { name: `other-${n}` } });
  expectStatus(other, 201, 'creating the other project');
  expectStatus(
    await server.call('POST', `/projects/${other.body.id}/members`, {
      token: adminToken,
      body: { email: outsiderEmail, role: 'admin', password: MEMBER_PASSWORD },
    }),
    201,
    'adding the outsider',
  );
  const outsiderToken = await server.login(outsiderEmail, MEMBER_PASSWORD);
  // The creator leaves the other project, so that project belongs to the outsider alone.
  const bootstrapUserId = (await server.call('GET', '/me', { token: adminToken })).body.user.id;
  expectStatus(
    await server.call('DELETE', `/projects/${other.body.id}/members/${bootstrapUserId}`, { token: outsiderToken }),
    204,
    'leaving the other project',
  );

  // The spare user is created through the other project, then leaves it.
  const spareEmail = `spare${n}@example.com`;
  const spare = await server.call<MemberDto>('POST', `/projects/${other.body.id}/members`, {
    token: outsiderToken,
    body: { email: spareEmail, role: 'member', password: MEMBER_PASSWORD },
  });
  expectStatus(spare, 201, 'creating the spare user');
  expectStatus(
    await server.call('DELETE', `/projects/${other.body.id}/members/${spare.body.userId}`, { token: outsiderToken }),
    204,
    'removing the spare user',
  );

  const gateway = await enrollGateway(server, adminToken, projectId, `gw-${n}`);
  const resource = await server.call<ResourceDto>('POST', '/resources', {
    token: adminToken,
    body: { projectId, name: `db-${n}`, gatewayId: gateway.gatewayId, connectionString: 'mongodb://db.internal:27017/?replicaSet=rs0' },
  });
  expectStatus(resource, 201, 'creating a resource');
  const account = await server.call<AccountDto>('POST', `/resources/${resource.body.id}/accounts`, {
    token: adminToken,
    body: { name: 'reader', username: 'app_reader', password: ACCOUNT_PASSWORD, maxSessionDurationSeconds: 7200 },
  });
  expectStatus(account, 201, 'creating an account');
  return {
    projectId,
    adminToken,
    memberToken,
    member: added.body,
    memberEmail,
    outsiderToken,
    outsiderEmail,
    spareUserId: spare.body.userId,
    spareEmail,
    outsiderProjectId: other.body.id,
    gateway,
    resource: resource.body,
    account: account.body,
  };
}

/** Enrolls a gateway and reports it online, as the relay would on its hello and heartbeats. */
export async function enrollGateway(
  server: ApiServer,
  adminToken: string,
  projectId: string,
  name: string,
): Promise<GatewayEnrollResponse> {
  const token = await server.call('POST', '/gateways/enrollment-tokens', { token: adminToken, body: { projectId, name } });
  expectStatus(token, 201, 'creating an enrollment token');
  const enrolled = await server.call<GatewayEnrollResponse>('POST', '/gateway/enroll', { body: { token: token.body.token } });
  expectStatus(enrolled, 201, 'enrolling a gateway');
  await presentTunnelCertificate(server, enrolled.body.gatewayId);
  await server.cp.services.setGatewayConnected(enrolled.body.gatewayId, true, new Date(Date.now() + server.clock.offsetMs));
  return enrolled.body;
}

/** The gateway's tunnel certificate, as its hello would bring it: sessions on it are vouched this gateway. */
export async function presentTunnelCertificate(server: ApiServer, gatewayId: string): Promise<void> {
  await server.cp.services.recordTunnelCertificate(gatewayId, (await testGatewayIdentity()).certificatePem);
}

let gatewayIdentity: Promise<PemKeyPair> | undefined;
/** One tunnel key pair for the gateways these tests enroll without running them. */
function testGatewayIdentity(): Promise<PemKeyPair> {
  gatewayIdentity ??= createGatewayIdentity('api-test-gateway');
  return gatewayIdentity;
}

export interface ControlPlaneProcess {
  /** http://127.0.0.1:PORT/api/v1 */
  base: string;
  /** Its first admin's one-time sign-in, when this process made the first start. */
  bootstrap: { email: string; password: string } | null;
  stop(): Promise<void>;
}

// A control plane in a process of its own: on the given store, its clock moved by CLOCK_OFFSET_MS. It prints one
// JSON line when it listens.
const CONTROL_PLANE_SCRIPT = `
const { resolveConfig } = require(${JSON.stringify(join(__dirname, '../../server/config.ts'))});
const { startControlPlane } = require(${JSON.stringify(join(__dirname, '../../server/control-plane.ts'))});
(async () => {
  const offset = Number(process.env.CLOCK_OFFSET_MS);
  const cp = await startControlPlane(
    resolveConfig({ dataDir: process.env.DATA_DIR, databaseUrl: process.env.DATABASE_URL || undefined, listenPort: 0, logger: false }),
    { now: () => new Date(Date.now() + offset), smtp: null },
  );
  process.once('SIGTERM', () => cp.close().then(() => process.exit(0)));
  process.stdout.write(JSON.stringify({ url: cp.url, bootstrap: cp.bootstrapResult }) + '\\n');
})().catch((error) => { console.error(error); process.exit(1); });
`;

/**
 * A control plane in a process of its own, as a replica would run: on the SQLite file in `dataDir` or on the
 * PostgreSQL database `databaseUrl` (with the root key file in `dataDir`).
 */
export async function startControlPlaneProcess(options: {
  dataDir: string;
  databaseUrl?: string;
  clockOffsetMs?: number;
}): Promise<ControlPlaneProcess> {
  const child = spawnTracked(process.execPath, ['--import', 'tsx', '-e', CONTROL_PLANE_SCRIPT], {
    env: {
      ...process.env,
      DATA_DIR: options.dataDir,
      DATABASE_URL: options.databaseUrl ?? '',
      CLOCK_OFFSET_MS: String(options.clockOffsetMs ?? 0),
    },
  });
  const output = captureOutput(child);
  const started = await new Promise<{ url: string; bootstrap: ControlPlaneProcess['bootstrap'] }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the control plane process did not start in 60 s: ${output()}`)), 60_000);
    child.stdout?.on('data', () => {
      const line = output()
        .split('\n')
        .find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the control plane process exited (${code}): ${output()}`));
    });
  });
  return { base: `${started.url}/api/v1`, bootstrap: started.bootstrap, stop: () => stopProcess(child) };
}

/** Another control plane on the test server's store, in a process of its own, with the server's clock. */
export function startReplica(server: ApiServer): Promise<ControlPlaneProcess> {
  return startControlPlaneProcess({ dataDir: server.dataDir, databaseUrl: server.databaseUrl, clockOffsetMs: server.clock.offsetMs });
}
