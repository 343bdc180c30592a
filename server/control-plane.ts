/**
 * The control plane's composition root: opens (and migrates) the store, loads the root key, builds the services
 * and the JSON API, listens, and then creates the first admin on first start. The relay (WebSockets) is attached
 * to `httpServer` by the caller, using `services`.
 */

import { createHmac } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type http from 'node:http';
import type https from 'node:https';
import type { FastifyInstance } from 'fastify';
import { API_PREFIX } from '../protocol/api';
import type { LogBatch } from '../protocol/gateway-channel';
import { type BootstrapResult, bootstrap } from './auth/bootstrap';
import { type ControlPlaneConfig, keyFileOf } from './config';
import { buildApp } from './http/app';
import type { AppDeps, GatewayEvents } from './http/app-deps';
import { listenError } from './http/listen-error';
import { ControlPlaneMetrics, type RelayCounts } from './metrics/control-plane-metrics';
import { createMfa } from './mfa/create-mfa';
import type { SmtpConfig } from './mfa/smtp-config';
import type { ConnectionTester } from './relay/deps';
import { ReplicaEvents } from './replicas/replica-events';
import { newReplicaId, ReplicaRegistry } from './replicas/replica-registry';
import { deriveKey } from './secrets/derive-key';
import { newWrappedDataKey } from './secrets/envelope';
import { loadRootKey } from './secrets/root-key';
import type { ServiceContext } from './services/context';
import {
  authenticateGateway,
  endSessionsOfOfflineGateways,
  isGatewayOnline,
  recordGatewayTunnelCertificate,
  setGatewayConnected,
} from './services/gateways';
import { newProjectKeys } from './services/project-keys';
import { type AccessDeps, type VerifiedRelayTicket, verifyRelayTicket } from './sessions/access';
import { alertFirstHighFlag } from './sessions/flag-alerts';
import { SessionLifecycle } from './sessions/lifecycle';
import { inThreadLogWriter, startLogWriterThread } from './sessions/log-writer';
import type { MfaProvider } from './sessions/mfa';
import { type AppendLogResult, recordStats } from './sessions/session-logs';
import { getSessionTarget, type SessionTargetAnswer } from './sessions/session-target';
import { SsoService } from './sso/sso-service';
import { openStore } from './store/open-store';
import type { Store } from './store/store';

/** What the relay (and other in-process parts) call. */
export interface ControlPlaneServices {
  /** The key a gateway encrypts its log spool with: derived from the root key and the gateway id, never stored. */
  spoolKeyFor(gatewayId: string): Buffer;
  /** The gateway a credential belongs to, or null. */
  authenticateGateway(credential: string): Promise<{ gatewayId: string; projectId: string; name: string } | null>;
  /** Channel opened/closed, or a heartbeat (connected = true refreshes last_seen_at). */
  setGatewayConnected(gatewayId: string, connected: boolean, at: Date, version?: string): Promise<void>;
  /** The gateway's tunnel certificate, from its hello: stored, and audited when it changed. */
  recordTunnelCertificate(gatewayId: string, certificatePem: string): Promise<void>;
  /** How often gateways should heartbeat (send it in `welcome`); unseen for two intervals = offline. */
  gatewayHeartbeatIntervalMs: number;
  /** Null unless the ticket is genuine, unexpired, for this session, and the session is active. */
  verifyRelayTicket(ticket: string, sessionId: string): Promise<VerifiedRelayTicket | null>;
  /** Credentials for a gateway, only for an active session assigned to it. */
  getSessionTarget(sessionId: string, gatewayId: string): Promise<SessionTargetAnswer>;
  /** Idempotent; pass the uploading gateway's id so a gateway can only write its own sessions' logs. */
  appendLogBatch(batch: LogBatch, gatewayId?: string): Promise<AppendLogResult>;
  recordStats(sessionId: string, stats: { connections: number; commands?: number }, gatewayId?: string): Promise<void>;
  /** Gateways serving active sessions (asked by the relay at start, to apply the offline grace after a restart). */
  gatewaysWithActiveSessions(): Promise<string[]>;
  /** This replica among those sharing the database, and the live ones (told to gateways). */
  replicas: ReplicaRegistry;
  /** Some replica heard from the gateway within two heartbeat intervals (the database's view). */
  isGatewayRecentlySeen(gatewayId: string): Promise<boolean>;
  /** Ends the sessions of gateways unseen for `graceMs`, one replica at a time. */
  sweepOfflineGateways(graceMs: number): Promise<void>;
  /** `on('ended', (sessionId, reason, gatewayId) => ...)` (here or on another replica), `touch`, `connectionOpened/Closed`, `gatewayWentOffline`. */
  sessions: SessionLifecycle;
  /** `on('event', ...)`: what happened on any replica; `gateway.deleted` closes that gateway's channels. */
  replicaEvents: ReplicaEvents;
  /** What the relay attached to this replica carries, for the health answer and the metrics; set once the relay is attached. */
  setRelayStatus(status: () => RelayCounts): void;
  /** The relay's way to ask a gateway for a connection test (Test Connection in the API); set once attached. */
  setConnectionTester(tester: ConnectionTester): void;
}

export interface ControlPlane {
  /** Base URL (publicUrl when configured), without /api/v1. */
  url: string;
  port: number;
  fastify: FastifyInstance;
  httpServer: http.Server | https.Server;
  store: Store;
  services: ControlPlaneServices;
  /** The first admin's one-time sign-in, on the very first start only. */
  bootstrapResult: BootstrapResult | null;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Replaces the built-in MFA (server/mfa) as the access route's second factor. */
  mfa?: MfaProvider;
  /** SMTP server for email MFA codes; `null` = none; default: PORTCULLIS_SMTP_* from the environment. */
  smtp?: SmtpConfig | null;
  /** Clock, for tests. */
  now?: () => Date;
}

export async function startControlPlane(config: ControlPlaneConfig, options: StartOptions = {}): Promise<ControlPlane> {
  const rootKey = loadRootKey({ env: config.rootKey, keyFile: keyFileOf(config) });
  const store = await openStore({ url: config.databaseUrl, dataDir: config.dataDir });
  // What to close if the start fails half-way.
  let started: { app?: FastifyInstance; mfa?: { close(): void }; replicaEvents?: ReplicaEvents } = {};
  try {
    const ctx: ServiceContext = { store, keys: newProjectKeys(rootKey), rootKey, config, now: options.now ?? (() => new Date()) };
    const replicaId = newReplicaId();
    const replicaEvents = new ReplicaEvents(store, { replicaId, databaseUrl: config.databaseUrl });
    const sessions = new SessionLifecycle(ctx, {
      announce: (sessionId, reason, gatewayId) => replicaEvents.publish({ type: 'session.ended', sessionId, reason, gatewayId }),
    });
    replicaEvents.on('event', (event) => {
      if (event.type === 'session.ended' && event.from !== replicaId)
        sessions.endedElsewhere(event.sessionId, event.reason, event.gatewayId);
    });
    // Ends sent while this replica was not listening are found in the database.
    replicaEvents.on('resync', () => void sessions.reconcile().catch(() => undefined));
    const mfa = createMfa({ ctx, rootKey, smtp: options.smtp });
    started = { mfa };
    let log: (message: string) => void = () => {};
    const access: AccessDeps = {
      ctx,
      ticketKey: deriveKey(rootKey, 'relay-ticket'),
      mfa: options.mfa ?? mfa.provider,
      // Sent after the answer: a slow or failing mail server delays and breaks nothing.
      notify: mfa.email
        ? (notice) =>
            void mfa.email?.sendNotice(notice).catch((error: Error) => log(`could not email "${notice.subject}": ${error.message}`))
        : undefined,
    };
    const gatewayEvents = new EventEmitter<GatewayEvents>();
    // A gateway deleted through this replica has its channels closed on every replica.
    gatewayEvents.on('deleted', (gatewayId) => void replicaEvents.publish({ type: 'gateway.deleted', gatewayId }));
    let relayStatus = (): RelayCounts => ({ gateways: 0, streams: 0, bytesFromClients: 0, bytesToClients: 0, refusals: {} });
    let connectionTester: ConnectionTester | undefined;
    let registry: ReplicaRegistry | undefined;
    const metrics = new ControlPlaneMetrics();
    const sso = config.sso
      ? new SsoService({
          ctx,
          settings: config.sso,
          flowKey: deriveKey(rootKey, 'sso-flow'),
          endSessions: (userId, projectId) => sessions.endSessionsOf({ userId, projectId }, 'sso'),
        })
      : undefined;
    const deps: AppDeps = {
      ctx,
      sessions,
      access,
      sso,
      gatewayEvents,
      metrics,
      policyChanged: async (accountId) => {
        const rows = await store.db
          .selectFrom('sessions')
          .select(['id', 'gateway_id'])
          .where('account_id', '=', accountId)
          .where('state', '=', 'active')
          .execute();
        const byGateway = new Map<string, string[]>();
        for (const row of rows) byGateway.set(row.gateway_id, [...(byGateway.get(row.gateway_id) ?? []), row.id]);
        for (const [gatewayId, sessionIds] of byGateway) await replicaEvents.publish({ type: 'sessions.refresh', gatewayId, sessionIds });
      },
      testOnGateway: (gatewayId, target) => connectionTester?.(gatewayId, target) ?? null,
      secondFactor: (user, code) => mfa.service.checkSignInCode(user, code),
      replicaStatus: () => {
        const relay = relayStatus();
        return { replicaId, replicas: registry?.live() ?? [], connectedGateways: relay.gateways, streams: relay.streams };
      },
    };
    metrics.setSource({
      activeSessions: async () =>
        Number(
          (
            await store.db
              .selectFrom('sessions')
              .select((eb) => eb.fn.countAll().as('n'))
              .where('state', '=', 'active')
              .executeTakeFirstOrThrow()
          ).n,
        ),
      relay: () => relayStatus(),
    });
    const app = buildApp(config, deps);
    started = { app, mfa, replicaEvents };
    replicaEvents.log = (level, message) => app.log[level](message);
    log = (message) => app.log.warn(message);
    if (config.flagEmails && !mfa.email) {
      app.log.warn('PORTCULLIS_FLAG_EMAILS is on, but no SMTP server is set (PORTCULLIS_SMTP_HOST): no risk alert will be emailed');
    }
    await replicaEvents.start();
    app.register(async (api) => mfa.registerRoutes(api), { prefix: API_PREFIX });
    try {
      await app.listen({ host: config.listenHost, port: config.listenPort });
    } catch (error) {
      throw listenError(error, config.listenHost, config.listenPort);
    }
    // Only once the port is ours: a first start that cannot listen must not leave an admin behind whose one-time
    // password nobody saw. Its next start is a first start again. (Until this commits, a sign-in finds no user.)
    const bootstrapResult = await bootstrap(store, {
      email: config.bootstrapEmail,
      newWrappedKey: () => newWrappedDataKey(rootKey),
      now: ctx.now(),
    });
    sessions.start();
    // Told at start rather than at the first sign-in: a wrong issuer or an unreachable provider is a setup mistake.
    sso?.rp.discover().catch((error: Error) => app.log.warn(`single sign-on: ${error.message}; sign-ins with it fail until it answers`));
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.listenPort;
    const host = ['0.0.0.0', '::', ''].includes(config.listenHost) ? 'localhost' : config.listenHost;
    const local = `${config.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
    // SQLite statements block the thread they run on: log batches are stored on a thread of their own, unless the
    // setting (PORTCULLIS_LOG_WRITER_THREAD=off) keeps them on this one.
    const logWriter =
      config.databaseUrl || config.logWriterThread === false
        ? inThreadLogWriter(ctx)
        : await startLogWriterThread(config.dataDir).catch((error: Error) => {
            app.log.warn(`log batches are stored on the main thread: ${error.message}`);
            return inThreadLogWriter(ctx);
          });
    const spoolKeys = deriveKey(rootKey, 'gateway-spool');
    const replicas = new ReplicaRegistry(store.db, {
      id: replicaId,
      url: (config.replicaUrl ?? config.publicUrl ?? local).replace(/\/$/, ''),
      heartbeatMs: config.gatewayHeartbeatSeconds * 1000,
      now: ctx.now,
    });
    replicas.on('warning', (message) => app.log.warn(message));
    await replicas.start();
    registry = replicas;
    const services: ControlPlaneServices = {
      spoolKeyFor: (gatewayId) => createHmac('sha256', spoolKeys).update(gatewayId).digest(),
      authenticateGateway: (credential) => authenticateGateway(store.db, credential),
      setGatewayConnected: (gatewayId, connected, at, version) => setGatewayConnected(store.db, gatewayId, connected, at, version),
      recordTunnelCertificate: (gatewayId, certificatePem) => recordGatewayTunnelCertificate(ctx, gatewayId, certificatePem),
      gatewayHeartbeatIntervalMs: config.gatewayHeartbeatSeconds * 1000,
      verifyRelayTicket: (ticket, sessionId) => verifyRelayTicket(access, ticket, sessionId),
      getSessionTarget: (sessionId, gatewayId) => getSessionTarget(ctx, sessionId, gatewayId),
      appendLogBatch: async (batch, gatewayId) => {
        const started = performance.now();
        const result = await logWriter.append(batch, gatewayId);
        metrics.logBatchStored(result.stored, (performance.now() - started) / 1000);
        if (result.firstHighFlag && config.flagEmails && access.notify) {
          const notify = access.notify;
          void alertFirstHighFlag(ctx, notify, batch).catch((error: Error) => log(`could not prepare a risk alert: ${error.message}`));
        }
        return result;
      },
      recordStats: (sessionId, stats, gatewayId) => recordStats(ctx, sessionId, stats, gatewayId),
      gatewaysWithActiveSessions: async () =>
        (await store.db.selectFrom('sessions').select('gateway_id').distinct().where('state', '=', 'active').execute()).map(
          (row) => row.gateway_id,
        ),
      replicas,
      isGatewayRecentlySeen: async (gatewayId) => {
        const row = await store.db
          .selectFrom('gateways')
          .select(['connected', 'last_seen_at'])
          .where('id', '=', gatewayId)
          .executeTakeFirst();
        return row !== undefined && isGatewayOnline(ctx, row);
      },
      sweepOfflineGateways: async (graceMs) => {
        await endSessionsOfOfflineGateways(ctx, graceMs, (gatewayId) => sessions.gatewayWentOffline(gatewayId));
      },
      sessions,
      replicaEvents,
      setRelayStatus: (status) => {
        relayStatus = status;
      },
      setConnectionTester: (tester) => {
        connectionTester = tester;
      },
    };
    let closing: Promise<void> | undefined;
    return {
      url: config.publicUrl?.replace(/\/$/, '') ?? local,
      port,
      fastify: app,
      httpServer: app.server,
      store,
      services,
      bootstrapResult,
      close: () => {
        closing ??= (async () => {
          sessions.stopSweeper();
          await replicas.stop().catch(() => undefined);
          await replicaEvents.close();
          await app.close();
          mfa.close();
          await logWriter.close();
          await store.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await started.app?.close().catch(() => undefined);
    await started.replicaEvents?.close();
    started.mfa?.close();
    await store.close();
    throw error;
  }
}
