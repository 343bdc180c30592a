/**
 * `GET /metrics` (Prometheus text format), outside /api/v1 where scrapers look for it. It needs the metrics token
 * (PORTCULLIS_METRICS_TOKEN_FILE), not a user's sign-in: a scraper is not a person, and the numbers are not a
 * project's. Without a configured token the endpoint does not exist (404).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { API_ERROR_CODES } from '../../../protocol/api';
import type { ControlPlaneMetrics } from '../../metrics/control-plane-metrics';
import { ServiceError } from '../../services/service-error';

export const METRICS_PATH = '/metrics';

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function metricsRoutes(app: FastifyInstance, metrics: ControlPlaneMetrics, token: string | undefined): void {
  app.get(
    METRICS_PATH,
    {
      config: { auth: 'metrics' },
      schema: {
        summary: 'Prometheus metrics of this replica (text exposition format)',
        response: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    async (request, reply) => {
      if (!token) {
        throw new ServiceError(
          API_ERROR_CODES.notFound,
          'metrics are off on this control plane: set PORTCULLIS_METRICS_TOKEN_FILE to a file holding a token, and scrape with it',
        );
      }
      const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
      if (!match || !sameToken(match[1], token)) {
        throw new ServiceError(
          API_ERROR_CODES.unauthenticated,
          'send the metrics token (the content of PORTCULLIS_METRICS_TOKEN_FILE) as Authorization: Bearer <token>',
        );
      }
      const { contentType, body } = await metrics.scrape();
      return reply.type(contentType).send(body);
    },
  );
}
