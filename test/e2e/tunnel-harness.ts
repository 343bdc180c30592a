/**
 * The whole tunnel, real from end to end, for the tunnel-*.test.ts files: FerretDB with SCRAM, the control plane
 * (startControlPlane) with the relay attached, an enrolled gateway agent with the real engine, and an admin who
 * owns a resource and an account for FerretDB's user. Clients then use startAccess (proxy-core).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GatewayAgent, type GatewayAgentOptions, startGatewayAgent } from '../../gateway/agent/agent';
import { enrollGateway } from '../../gateway/agent/enroll';
import type { AccountDto } from '../../protocol/api';
import type { CommandEvent, StoredSessionLogEvent } from '../../protocol/session-log';
import { ApiClient, collectPages } from '../../proxy-core/api-client';
import { type ControlPlaneConfig, resolveConfig } from '../../server/config';
import { type ControlPlane, startControlPlane } from '../../server/control-plane';
import type { SmtpConfig } from '../../server/mfa/smtp-config';
import { relayDepsFromServices } from '../../server/relay/control-plane-deps';
import { attachRelay, type Relay, type RelayOptions } from '../../server/relay/relay';
import { relayCounts } from '../../server/run-server';
import { type FerretDBOptions, type FerretDBServer, startFerretDB } from '../bed/ferretdb';
import { removeTempDir, trackTempDir } from '../bed/processes';

export interface TunnelBedOptions {
  relay?: RelayOptions;
  /** The control plane's clock (to make a session expire at the gateway first). */
  now?: () => Date;
  gateway?: Partial<GatewayAgentOptions>;
  /** How FerretDB is started (a replica-set name, a log level). */
  db?: FerretDBOptions;
  /** Control-plane settings on top of the bed's. */
  config?: Partial<ControlPlaneConfig>;
  /** The control plane's SMTP server (default: none). */
  smtp?: SmtpConfig;
}

export interface TunnelBed {
  db: FerretDBServer;
  cp: ControlPlane;
  relay: Relay;
  agent: GatewayAgent;
  /** Signed in as the first admin (also a member who may request access). */
  api: ApiClient;
  token: string;
  account: AccountDto;
  server: string;
  dataDir: string;
  /** Stops and starts the control plane on the same port and data folder (the gateway is left alone). */
  restartControlPlane(between?: () => Promise<void>): Promise<void>;
  logs(sessionId: string): Promise<StoredSessionLogEvent[]>;
  stop(): Promise<void>;
}

export async function startTunnelBed(options: TunnelBedOptions = {}): Promise<TunnelBed> {
  const db = await startFerretDB(options.db);
  const dataDir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-tunnel-')));
  const config = resolveConfig({ dataDir, listenPort: 0, logger: false, gatewayHeartbeatSeconds: 1, ...options.config });
  const smtp = options.smtp ?? null;
  const relayOptions: RelayOptions = { offlineGraceMs: 30_000, ...options.relay };
  let cp = await startControlPlane(config, { now: options.now, smtp });
  let relay = attachRelay(cp.httpServer, relayDepsFromServices(cp.services), { heartbeatIntervalMs: 1000, ...relayOptions });
  // As runServer does: the health answer and the metrics read the relay's counts.
  cp.services.setRelayStatus(() => relayCounts(relay));
  const server = cp.url;
  const bootstrap = cp.bootstrapResult;
  if (!bootstrap) throw new Error('the control plane did not bootstrap an admin');
  const api = new ApiClient({ server });
  const { token } = await api.login({ email: bootstrap.email, password: bootstrap.password });
  api.setToken(token);
  const [project] = await api.listProjects();
  const enrollment = await api.createEnrollmentToken({ projectId: project.id, name: 'tunnel-test-gateway' });
  const { gatewayId, credential } = await enrollGateway({ server, token: enrollment.token, name: 'tunnel-test-gateway' });
  const agent = await startGatewayAgent({
    server,
    credential,
    reconnect: { initialMs: 100, maxMs: 1000 },
    spoolDir: join(dataDir, 'gateway-spool'),
    ...options.gateway,
  });
  await waitFor(() => agent.status() === 'online', 'the gateway to come online');
  const account = await addFerretAccount(api, project.id, gatewayId, db);

  const bed: TunnelBed = {
    db,
    get cp() {
      return cp;
    },
    get relay() {
      return relay;
    },
    agent,
    api,
    token,
    account,
    server,
    dataDir,
    async restartControlPlane(between) {
      const port = cp.port;
      await relay.close();
      await cp.close();
      await between?.();
      cp = await startControlPlane({ ...config, listenPort: port }, { now: options.now, smtp });
      relay = attachRelay(cp.httpServer, relayDepsFromServices(cp.services), { heartbeatIntervalMs: 1000, ...relayOptions });
      cp.services.setRelayStatus(() => relayCounts(relay));
    },
    logs(sessionId) {
      return collectPages((cursor) => api.getSessionLogs(sessionId, { cursor, limit: 500 }));
    },
    async stop() {
      await agent.stop().catch(() => {});
      await relay.close().catch(() => {});
      await cp.close().catch(() => {});
      await db.stop();
      removeTempDir(dataDir);
    },
  };
  return bed;
}

/** A resource "ferret" for FerretDB behind the gateway, and an account "setup-admin" as FerretDB's user. */
export async function addFerretAccount(api: ApiClient, projectId: string, gatewayId: string, db: FerretDBServer): Promise<AccountDto> {
  const resource = await api.createResource(projectId, {
    name: 'ferret',
    gatewayId,
    connectionString: db.uri,
    authDatabase: 'admin',
    tlsEnabled: false,
  });
  return api.createAccount(resource.id, {
    name: 'setup-admin',
    username: db.username,
    password: db.password,
    maxSessionDurationSeconds: 3600,
  });
}

export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The session's logged commands, once there are at least `count` (uploads arrive a little after the commands). */
export async function loggedCommands(bed: TunnelBed, sessionId: string, count: number): Promise<CommandEvent[]> {
  let found: CommandEvent[] = [];
  await waitFor(async () => {
    found = (await bed.logs(sessionId)).flatMap((e) => (e.kind === 'command' ? [e] : []));
    return found.length >= count;
  }, `${count} commands in the log`);
  return found;
}
