/**
 * RelayDeps over the control plane's services (server/control-plane.ts): the adapter the composition root
 * passes to attachRelay.
 */
import type { ControlPlaneServices } from '../control-plane';
import type { ReplicaEventFrom } from '../replicas/replica-events';
import type { RelayDeps } from './deps';

export function relayDepsFromServices(services: ControlPlaneServices, log?: RelayDeps['log']): RelayDeps {
  const { sessions, replicaEvents } = services;
  const { replicas } = services;
  return {
    replicas: {
      id: replicas.id,
      live: () => replicas.live(),
      onChange: (listener) => {
        replicas.on('changed', listener);
        return () => replicas.off('changed', listener);
      },
    },
    isGatewayRecentlySeen: (gatewayId) => services.isGatewayRecentlySeen(gatewayId),
    sweepOfflineGateways: (graceMs) => services.sweepOfflineGateways(graceMs),
    authenticateGateway: async (credential) => {
      const found = await services.authenticateGateway(credential);
      return found ? { gatewayId: found.gatewayId, projectId: found.projectId } : null;
    },
    setGatewayConnected: (gatewayId, connected, at, version) => services.setGatewayConnected(gatewayId, connected, at, version),
    recordTunnelCertificate: (gatewayId, certificatePem) => services.recordTunnelCertificate(gatewayId, certificatePem),
    verifyRelayTicket: async (ticket, sessionId) => {
      const grant = await services.verifyRelayTicket(ticket, sessionId);
      return grant ? { sessionId: grant.sessionId, userId: grant.userId, gatewayId: grant.gatewayId } : null;
    },
    getSessionTarget: (sessionId, gatewayId) => services.getSessionTarget(sessionId, gatewayId),
    spoolKeyFor: (gatewayId) => services.spoolKeyFor(gatewayId),
    appendLogBatch: async (batch, gatewayId) => {
      const result = await services.appendLogBatch(batch, gatewayId);
      // A refused batch is still acknowledged: sending it again would not change the answer.
      if (result.refused) log?.('warn', `refused a log batch: ${result.refused}`, { gatewayId, sessionId: batch.sessionId });
    },
    touch: (sessionId) => sessions.touch(sessionId),
    connectionOpened: (sessionId) => sessions.connectionOpened(sessionId),
    connectionClosed: (sessionId) => sessions.connectionClosed(sessionId),
    gatewayWentOffline: async (gatewayId) => {
      await sessions.gatewayWentOffline(gatewayId);
    },
    onSessionEnded: (listener) => {
      sessions.on('ended', listener);
      return () => sessions.off('ended', listener);
    },
    provideConnectionTester: (tester) => services.setConnectionTester(tester),
    onSessionsRefresh: (listener) => {
      // Changed through any replica; every replica tells the gateway, which fetches each session's policy again.
      const onEvent = (event: ReplicaEventFrom) => {
        if (event.type === 'sessions.refresh') listener(event.gatewayId, event.sessionIds);
      };
      replicaEvents.on('event', onEvent);
      return () => replicaEvents.off('event', onEvent);
    },
    onGatewayRevoked: (listener) => {
      // Deleted through any replica.
      const onEvent = (event: ReplicaEventFrom) => {
        if (event.type === 'gateway.deleted') listener(event.gatewayId);
      };
      replicaEvents.on('event', onEvent);
      return () => replicaEvents.off('event', onEvent);
    },
    recordSessionStats: (sessionId, gatewayId, stats) => services.recordStats(sessionId, stats, gatewayId),
    gatewaysWithActiveSessions: () => services.gatewaysWithActiveSessions(),
    log,
  };
}
