/**
 * The control plane as it runs: the JSON API (startControlPlane) with the relay's WebSocket endpoints attached
 * to the same HTTP server. `portcullis server`, `portcullis start`, the benchmarks and the end-to-end tests all
 * start it through here, so there is one composition of the two.
 */
import type { BootstrapResult } from './auth/bootstrap';
import type { ControlPlaneConfig } from './config';
import { type ControlPlane, type StartOptions, startControlPlane } from './control-plane';
import type { RelayCounts } from './metrics/control-plane-metrics';
import { relayDepsFromServices } from './relay/control-plane-deps';
import type { LocalGateways } from './relay/deps';
import { attachRelay, type Relay, type RelayOptions } from './relay/relay';

export interface RunningServer {
  /** Base URL, without /api/v1. */
  url: string;
  port: number;
  /** The first admin's one-time sign-in, on the very first start only. */
  bootstrap: BootstrapResult | null;
  controlPlane: ControlPlane;
  relay: Relay;
  close(): Promise<void>;
}

export interface RunServerOptions extends StartOptions {
  relay?: RelayOptions;
  /** Gateway agents in this process (`portcullis start`): the relay hands them their streams directly. */
  localGateways?: LocalGateways;
}

/** What the health answer and the metrics read from the relay. */
export function relayCounts(relay: Relay): RelayCounts {
  const stats = relay.stats();
  return {
    gateways: stats.gateways,
    streams: stats.pairedStreams,
    bytesFromClients: stats.bytesFromClients,
    bytesToClients: stats.bytesToClients,
    refusals: stats.refusals,
  };
}

export async function runServer(config: ControlPlaneConfig, options: RunServerOptions = {}): Promise<RunningServer> {
  const controlPlane = await startControlPlane(config, options);
  const log = controlPlane.fastify.log;
  const relay = attachRelay(
    controlPlane.httpServer,
    relayDepsFromServices(controlPlane.services, (level, message, fields) => log[level](fields ?? {}, message)),
    {
      heartbeatIntervalMs: controlPlane.services.gatewayHeartbeatIntervalMs,
      offlineGraceMs: config.gatewayOfflineGraceSeconds * 1000,
      ...options.relay,
      localGateways: options.localGateways ?? options.relay?.localGateways,
    },
  );
  controlPlane.services.setRelayStatus(() => relayCounts(relay));
  let closing: Promise<void> | undefined;
  return {
    url: controlPlane.url,
    port: controlPlane.port,
    bootstrap: controlPlane.bootstrapResult,
    controlPlane,
    relay,
    close() {
      // Relay first: its streams close with "going away" before the HTTP server stops accepting.
      closing ??= relay.close().then(() => controlPlane.close());
      return closing;
    },
  };
}
