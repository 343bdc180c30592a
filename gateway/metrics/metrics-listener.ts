/**
 * The gateway's metrics endpoint: `GET /metrics` on a loopback port (never another address: the numbers describe
 * sessions, and the gateway has no sign-in of its own). Off unless a port is given.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayMetrics } from './gateway-metrics';

export const METRICS_HOST = '127.0.0.1';
export const METRICS_PORT_ENV = 'PORTCULLIS_GATEWAY_METRICS_PORT';

/** The `--metrics-port` setting: undefined (off) when not given; a port number (0 picks a free one) otherwise. */
export function metricsPortFrom(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--metrics-port (${METRICS_PORT_ENV}) must be a port number from 0 to 65535, got "${raw}"`);
  }
  return port;
}

export interface MetricsListener {
  port: number;
  close(): Promise<void>;
}

export async function listenForMetrics(metrics: GatewayMetrics, port: number): Promise<MetricsListener> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: { code: 'not_found', message: 'the gateway serves GET /metrics only' } }));
      return;
    }
    metrics.scrape().then(
      ({ contentType, body }) => {
        res.writeHead(200, { 'content-type': contentType });
        res.end(body);
      },
      (error: Error) => {
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ error: { code: 'internal_error', message: `the metrics could not be read: ${error.message}` } }));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === 'EADDRINUSE'
            ? `the metrics port ${METRICS_HOST}:${port} is taken; choose another with --metrics-port (PORTCULLIS_GATEWAY_METRICS_PORT)`
            : `the metrics endpoint could not listen on ${METRICS_HOST}:${port}: ${error.message}`,
        ),
      ),
    );
    server.listen(port, METRICS_HOST, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
