/**
 * The Portcullis path on loopback, each part in its own process as in a real deployment: the control plane
 * (`portcullis server`), the gateway (`portcullis gateway start`), and per session the user's local proxy
 * (proxy-core's startAccess). An admin (the bootstrap user) sets up a resource and an account for FerretDB, and,
 * for the raw tunnel figure, a second gateway whose streams end at a TCP echo server.
 *
 * With `tls` the control plane serves HTTPS with a certificate from a CA made for the run (test/bed/certs.ts), as
 * in production: both legs of every relayed stream (local proxy → control plane, gateway → control plane) are TLS.
 * The child processes trust that CA through NODE_EXTRA_CA_CERTS, nothing else is told to skip verification.
 *
 * Two variants for before/after figures: `logWriterThread: false` starts the control plane with
 * PORTCULLIS_LOG_WRITER_THREAD=off (log batches stored on its main thread, as before the writer thread);
 * `agentGateways` adds gateways on the same control plane that run the real agent from one bench program
 * (bench/children/gateway-agent.ts): with the write-ahead spool, without it, and with the spool but without the inner
 * TLS (the unencrypted reference of the end-to-end encryption figure, bench/children/plain-tunnel.ts), each with a
 * resource and an account of its own on the same FerretDB.
 *
 * With `replicas` the control plane is several `portcullis server` replicas on one PostgreSQL database behind HAProxy
 * (bench/control-plane.ts); the gateway and the local proxies are given only HAProxy's address.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../proxy-core/api-client';
import { makeTestCerts } from '../test/bed/certs';
import type { FerretDBServer } from '../test/bed/ferretdb';
import { removeTempDir, trackTempDir } from '../test/bed/processes';
import type { BenchPrograms } from './build-children';
import { type ControlPlane, startControlPlane } from './control-plane';
import { type NodeChild, startNodeChild } from './node-child';
import { fetchTrusting } from './trusting-fetch';

export interface LocalProxy {
  uri: string;
  sessionId: string;
  pid: number;
  stop(): Promise<void>;
}

export interface AgentGateway {
  gatewayPid: number;
  accountId: string;
}

/**
 * The bench's own gateways (one program, bench/children/gateway-agent.ts): `spool` as `portcullis gateway start` runs
 * (write-ahead spool, inner TLS), `noSpool` without the spool, `plainTunnel` with the spool but without the inner TLS
 * (its local proxies skip it too).
 */
export type AgentGatewayKind = 'spool' | 'noSpool' | 'plainTunnel';

const AGENT_GATEWAY_NAMES: Record<AgentGatewayKind, string> = {
  spool: 'bench-agent-spool',
  noSpool: 'bench-agent-no-spool',
  plainTunnel: 'bench-agent-plain-tunnel',
};

export interface PortcullisStack {
  server: string;
  /** The admin's API token (also a member allowed to request access). */
  token: string;
  api: ApiClient;
  /** The control plane process (the first replica's, with `replicas`). */
  controlPlanePid: number;
  gatewayPid: number;
  mongoAccountId: string;
  /** Account on the echo gateway's resource, when started with an echo port. */
  echoAccountId: string | null;
  /** The bench's own gateways started with `agentGateways`, and their accounts on FerretDB. */
  agentGateways: Partial<Record<AgentGatewayKind, AgentGateway>>;
  /** A local proxy for the account; `plainTunnel` for the plain-tunnel gateway's account (no inner TLS). */
  startProxy(accountId: string, options?: { plainTunnel?: boolean }): Promise<LocalProxy>;
  stop(): Promise<void>;
}

export interface PortcullisStackOptions {
  programs: BenchPrograms;
  db: FerretDBServer;
  /** TCP echo server for the raw tunnel figure; no echo gateway without it. */
  echoPort?: number;
  /** Write CPU profiles of every Portcullis process under this folder. */
  cpuProfDir?: string | null;
  /** Serve the control plane over HTTPS (both relay legs TLS). */
  tls?: boolean;
  /** false: the control plane stores log batches on its main thread (PORTCULLIS_LOG_WRITER_THREAD=off). Default true. */
  logWriterThread?: boolean;
  /** Also start the bench's own gateway program (the real agent) on the same control plane, once for each kind. */
  agentGateways?: AgentGatewayKind[];
  /**
   * Run the control plane as `count` replicas sharing this PostgreSQL database, behind HAProxy (round-robin). Plain
   * HTTP only.
   */
  replicas?: { databaseUrl: string; count: number };
  /** Prefix of this stack's CPU profile folders, e.g. `https-`. */
  profilePrefix?: string;
}

export async function startPortcullisStack(options: PortcullisStackOptions): Promise<PortcullisStack> {
  const { programs, db } = options;
  if (options.replicas && options.tls) throw new Error('the bench runs control-plane replicas over plain HTTP only');
  const dir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-bench-')));
  const children: NodeChild[] = [];
  const profile = (label: string): string[] => {
    if (!options.cpuProfDir) return [];
    const out = join(options.cpuProfDir, `${options.profilePrefix ?? ''}${label}`);
    mkdirSync(out, { recursive: true });
    return ['--cpu-prof', `--cpu-prof-dir=${out}`];
  };
  // The CLI keeps its sign-in and gateway credential under these; nothing touches the real home.
  const cliEnv = { HOME: dir, PORTCULLIS_CONFIG_DIR: join(dir, 'config'), PORTCULLIS_LOG: 'off', DBUS_SESSION_BUS_ADDRESS: '' };
  let serverEnv: NodeJS.ProcessEnv = {};
  let clientEnv: NodeJS.ProcessEnv = {};
  let fetchImpl: typeof fetch | undefined;
  if (options.tls) {
    const certDir = join(dir, 'certs');
    mkdirSync(certDir);
    const certs = makeTestCerts(certDir);
    serverEnv = { PORTCULLIS_TLS_CERT_FILE: certs.verified.certFile, PORTCULLIS_TLS_KEY_FILE: certs.verified.keyFile };
    clientEnv = { NODE_EXTRA_CA_CERTS: certs.ca.certFile };
    fetchImpl = fetchTrusting(certs.ca.certPem);
  }
  let controlPlane: ControlPlane | undefined;
  const stopAll = async () => {
    for (const child of children.reverse()) await child.stop();
    await controlPlane?.stop();
    removeTempDir(dir);
  };

  try {
    controlPlane = await startControlPlane({
      cli: programs.cli,
      dir,
      env: { ...cliEnv, ...serverEnv, ...(options.logWriterThread === false ? { PORTCULLIS_LOG_WRITER_THREAD: 'off' } : {}) },
      profile,
      replicas: options.replicas,
    });
    const server = controlPlane.url;
    const { email, password } = controlPlane.admin;

    const api = new ApiClient({ server, fetch: fetchImpl });
    const { token } = await api.login({ email, password });
    api.setToken(token);
    const [project] = await api.listProjects();

    const enrollment = await api.createEnrollmentToken({ projectId: project.id, name: 'bench' });
    const gateway = startNodeChild(
      programs.cli,
      ['gateway', 'start', '--server', server, '--name', 'bench', '--credential-file', join(dir, 'gateway-credential.json')],
      { label: 'gateway', env: { ...cliEnv, ...clientEnv, PORTCULLIS_GATEWAY_TOKEN: enrollment.token }, nodeArgs: profile('gateway') },
    );
    children.push(gateway);
    await gateway.waitFor(/is running/);
    // With several replicas the gateway opens a channel to each one's own address, learned through the balancer; a
    // stream reaching a replica before its channel would wait for it.
    if (controlPlane.replicaUrls.length > 1) {
      for (const url of controlPlane.replicaUrls) await gateway.waitFor(new RegExp(`at ${url.replace(/[.]/g, '\\.')}; opening a channel`));
    }
    const gatewayId = await waitForGatewayOnline(api, project.id, 'bench');

    const resource = await api.createResource(project.id, {
      name: 'ferret',
      gatewayId,
      connectionString: db.uri,
      authDatabase: 'admin',
      tlsEnabled: false,
    });
    const account = await api.createAccount(resource.id, {
      name: 'bench',
      username: db.username,
      password: db.password,
      maxSessionDurationSeconds: 12 * 3600,
    });

    let echoAccountId: string | null = null;
    if (options.echoPort) {
      const echoToken = await api.createEnrollmentToken({ projectId: project.id, name: 'bench-echo' });
      const echoGateway = startNodeChild(programs.child['echo-gateway'], [], {
        label: 'echo gateway',
        env: { ...clientEnv, BENCH_SERVER: server, BENCH_ENROLLMENT_TOKEN: echoToken.token, BENCH_ECHO_PORT: String(options.echoPort) },
        nodeArgs: profile('echo-gateway'),
      });
      children.push(echoGateway);
      await echoGateway.waitFor(/"online"/);
      const echoGatewayId = await waitForGatewayOnline(api, project.id, 'bench-echo');
      const echoResource = await api.createResource(project.id, {
        name: 'echo',
        gatewayId: echoGatewayId,
        connectionString: `mongodb://127.0.0.1:${options.echoPort}/`,
        tlsEnabled: false,
      });
      // The echo gateway never logs in anywhere; the account only has to exist for a session.
      const echoAccount = await api.createAccount(echoResource.id, {
        name: 'echo',
        username: 'echo',
        password: 'not-used-by-the-echo-gateway',
        maxSessionDurationSeconds: 12 * 3600,
      });
      echoAccountId = echoAccount.id;
    }

    // The comparisons' gateways: one program (bench/children/gateway-agent.ts), with and without the spool, and without
    // the inner TLS.
    const agentGateways: PortcullisStack['agentGateways'] = {};
    for (const kind of options.agentGateways ?? []) {
      const name = AGENT_GATEWAY_NAMES[kind];
      const enrollmentToken = await api.createEnrollmentToken({ projectId: project.id, name });
      const child = startNodeChild(programs.child['gateway-agent'], [], {
        label: `gateway ${name}`,
        env: {
          ...clientEnv,
          BENCH_SERVER: server,
          BENCH_ENROLLMENT_TOKEN: enrollmentToken.token,
          BENCH_GATEWAY_NAME: name,
          BENCH_SPOOL_DIR: kind === 'noSpool' ? '' : join(dir, `${name}-spool`),
          BENCH_PLAIN_TUNNEL: kind === 'plainTunnel' ? '1' : '',
        },
        nodeArgs: profile(name),
      });
      children.push(child);
      await child.waitFor(/"online"/);
      const agentGatewayId = await waitForGatewayOnline(api, project.id, name);
      const agentResource = await api.createResource(project.id, {
        name: `ferret-${name}`,
        gatewayId: agentGatewayId,
        connectionString: db.uri,
        authDatabase: 'admin',
        tlsEnabled: false,
      });
      const agentAccount = await api.createAccount(agentResource.id, {
        name,
        username: db.username,
        password: db.password,
        maxSessionDurationSeconds: 12 * 3600,
      });
      agentGateways[kind] = { gatewayPid: child.pid, accountId: agentAccount.id };
    }

    return {
      server,
      token,
      api,
      controlPlanePid: controlPlane.pids[0],
      gatewayPid: gateway.pid,
      mongoAccountId: account.id,
      echoAccountId,
      agentGateways,
      async startProxy(accountId, proxyOptions) {
        const proxy = startNodeChild(programs.child['access-proxy'], [], {
          label: 'local proxy',
          env: {
            ...clientEnv,
            BENCH_SERVER: server,
            BENCH_TOKEN: token,
            BENCH_ACCOUNT_ID: accountId,
            BENCH_PLAIN_TUNNEL: proxyOptions?.plainTunnel ? '1' : '',
          },
          nodeArgs: profile('proxy'),
        });
        children.push(proxy);
        const ready = JSON.parse((await proxy.waitFor(/\{"uri".*\}/))[0]) as { uri: string; sessionId: string };
        return {
          ...ready,
          pid: proxy.pid,
          async stop() {
            children.splice(children.indexOf(proxy), 1);
            await proxy.stop();
          },
        };
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function waitForGatewayOnline(api: ApiClient, projectId: string, name: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = (await api.listGateways(projectId)).find((g) => g.name === name);
    if (found?.online) return found.id;
    if (Date.now() > deadline) throw new Error(`the gateway "${name}" did not come online within 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
