/**
 * Everything the bench measures against, on loopback: FerretDB (SCRAM on), an OpenSSH server with `ssh -L`
 * forwards, three chained Node `pipe()` forwarders, a TCP echo server, and the Portcullis processes (once over
 * plain HTTP, once over HTTPS, and once with log batches stored on the control plane's main thread; the plain stack
 * also runs the bench's gateway program with and without the spool, and without the inner TLS). Each path gets a MongoDB URI, and an echo port where the raw workload runs.
 * With `--replicas`, two more stacks whose control planes share PostgreSQL behind HAProxy: 1 replica and 3, each on a
 * database of its own on one PostgreSQL server (test/bed/postgres.ts).
 */
import { MongoClient } from 'mongodb';
import { type FerretDBServer, startFerretDB } from '../test/bed/ferretdb';
import { FERRETDB_VERSION } from '../test/bed/ferretdb-install';
import { freePort } from '../test/bed/ports';
import { startPostgres } from '../test/bed/postgres';
import { type SshdServer, startSshd } from '../test/bed/sshd';
import { seedBenchData } from './bench-data';
import type { BenchPrograms } from './build-children';
import { type NodeChild, startNodeChild } from './node-child';
import { startPipeChain } from './node-pipes';
import { type PathName, REPLICA_COUNT, REPLICA_PATHS } from './options';
import { type AgentGateway, type AgentGatewayKind, type PortcullisStack, startPortcullisStack } from './portcullis-stack';

/** The comparisons' paths through the bench's gateway program: with and without the spool, and without the inner TLS. */
const AGENT_PATHS: Readonly<Record<'portcullis-spool' | 'portcullis-no-spool' | 'portcullis-plain-tunnel', AgentGatewayKind>> = {
  'portcullis-spool': 'spool',
  'portcullis-no-spool': 'noSpool',
  'portcullis-plain-tunnel': 'plainTunnel',
};

export interface PathEndpoint {
  /** A MongoDB URI for the Node driver: credentials for direct, ssh and node-pipes, none for Portcullis. */
  mongoUri: string;
  /** Port on 127.0.0.1 that reaches the TCP echo server through this path (none on the variant paths). */
  echoPort?: number;
  /** Portcullis paths: the processes whose peak memory the concurrency workload reports. */
  processes?: { gateway: number; controlPlane: number; proxy: number };
}

export interface BenchBed {
  db: FerretDBServer;
  ferretdbVersion: string;
  endpoints: Map<PathName, PathEndpoint>;
  /** The plain-HTTP Portcullis stack, when that path is part of the run (session setup runs against it). */
  portcullis: PortcullisStack | null;
  /** Size of the bulk collection in bytes (BSON). */
  bulkBytes: number;
  bulkCount: number;
  stop(): Promise<void>;
}

export interface BenchBedOptions {
  programs: BenchPrograms;
  paths: PathName[];
  bulkCount: number;
  cpuProfDir: string | null;
  log(line: string): void;
}

export async function startBenchBed(options: BenchBedOptions): Promise<BenchBed> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => undefined);
  };
  try {
    options.log('starting FerretDB…');
    const db = await startFerretDB();
    stops.push(() => db.stop());
    const echo: NodeChild = startNodeChild(options.programs.child['echo-server'], [], { label: 'echo server' });
    stops.push(() => echo.stop());
    const echoPort = Number(JSON.parse((await echo.waitFor(/\{"port":\d+\}/))[0]).port);

    options.log(`seeding ${options.bulkCount} documents…`);
    const seeder = new MongoClient(db.adminUri);
    let bulkBytes: number;
    try {
      bulkBytes = await seedBenchData(seeder, options.bulkCount);
    } finally {
      await seeder.close();
    }

    const endpoints = new Map<PathName, PathEndpoint>();
    if (options.paths.includes('direct')) endpoints.set('direct', { mongoUri: db.adminUri, echoPort });

    if (options.paths.includes('ssh')) {
      options.log('starting sshd and the ssh -L forwards…');
      const sshd: SshdServer = await startSshd();
      stops.push(() => sshd.stop());
      const mongoForward = await sshd.forward(await freePort(), '127.0.0.1', db.port);
      const echoForward = await sshd.forward(await freePort(), '127.0.0.1', echoPort);
      endpoints.set('ssh', {
        mongoUri: db.adminUri.replace(`127.0.0.1:${db.port}`, `127.0.0.1:${mongoForward.port}`),
        echoPort: echoForward.port,
      });
    }

    if (options.paths.includes('node-pipes')) {
      options.log('starting the three pipe() forwarders…');
      const chain = await startPipeChain(options.programs, [db.port, echoPort]);
      stops.push(() => chain.stop());
      endpoints.set('node-pipes', {
        mongoUri: db.adminUri.replace(`127.0.0.1:${db.port}`, `127.0.0.1:${chain.ports[0]}`),
        echoPort: chain.ports[1],
      });
    }

    let portcullis: PortcullisStack | null = null;
    const wanted = (...paths: PathName[]) => paths.some((path) => options.paths.includes(path));
    for (const path of ['portcullis', 'portcullis-https'] as const) {
      // The comparisons' gateways run on the plain stack's control plane, beside its CLI gateway.
      const agentPaths = path === 'portcullis' ? (Object.keys(AGENT_PATHS) as (keyof typeof AGENT_PATHS)[]).filter((p) => wanted(p)) : [];
      if (!wanted(path) && agentPaths.length === 0) continue;
      const tls = path === 'portcullis-https';
      options.log(`starting the control plane (${tls ? 'HTTPS' : 'HTTP'}), the gateways and the local proxies…`);
      const stack = await startPortcullisStack({
        programs: options.programs,
        db,
        echoPort,
        cpuProfDir: options.cpuProfDir,
        tls,
        agentGateways: agentPaths.map((p) => AGENT_PATHS[p]),
        profilePrefix: tls ? 'https-' : '',
      });
      stops.push(() => stack.stop());
      for (const agentPath of agentPaths) {
        const kind = AGENT_PATHS[agentPath];
        const agent = stack.agentGateways[kind] as AgentGateway;
        const proxy = await stack.startProxy(agent.accountId, { plainTunnel: kind === 'plainTunnel' });
        endpoints.set(agentPath, {
          mongoUri: proxy.uri,
          processes: { gateway: agent.gatewayPid, controlPlane: stack.controlPlanePid, proxy: proxy.pid },
        });
      }
      if (!wanted(path)) continue;
      if (!tls) portcullis = stack;
      const mongoProxy = await stack.startProxy(stack.mongoAccountId);
      const echoProxy = await stack.startProxy(stack.echoAccountId as string);
      endpoints.set(path, {
        mongoUri: mongoProxy.uri,
        echoPort: Number(new URL(echoProxy.uri).port),
        processes: { gateway: stack.gatewayPid, controlPlane: stack.controlPlanePid, proxy: mongoProxy.pid },
      });
    }

    if (wanted('portcullis-main-thread')) {
      options.log('starting a control plane that stores log batches on its main thread, its gateway and local proxy…');
      const stack = await startPortcullisStack({
        programs: options.programs,
        db,
        cpuProfDir: options.cpuProfDir,
        logWriterThread: false,
        profilePrefix: 'main-thread-',
      });
      stops.push(() => stack.stop());
      const proxy = await stack.startProxy(stack.mongoAccountId);
      endpoints.set('portcullis-main-thread', {
        mongoUri: proxy.uri,
        processes: { gateway: stack.gatewayPid, controlPlane: stack.controlPlanePid, proxy: proxy.pid },
      });
    }

    for (const path of REPLICA_PATHS) {
      if (!wanted(path)) continue;
      const count = REPLICA_COUNT[path];
      options.log(
        `starting ${count} control plane replica${count > 1 ? 's' : ''} on PostgreSQL behind HAProxy, the gateway and the local proxy…`,
      );
      // A database of its own: the two stacks share no state (the PostgreSQL server is started once per process).
      const database = await startPostgres();
      stops.push(() => database.stop());
      const stack = await startPortcullisStack({
        programs: options.programs,
        db,
        cpuProfDir: options.cpuProfDir,
        replicas: { databaseUrl: database.url, count },
        profilePrefix: `replicas-${count}-`,
      });
      stops.push(() => stack.stop());
      const proxy = await stack.startProxy(stack.mongoAccountId);
      // No processes: with several control planes, one peak RSS per role would not say much.
      endpoints.set(path, { mongoUri: proxy.uri });
    }

    return {
      db,
      ferretdbVersion: FERRETDB_VERSION,
      endpoints,
      portcullis,
      bulkBytes,
      bulkCount: options.bulkCount,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
