/**
 * `GET /health`, without authentication: for load balancers (200 only while this replica can reach its database,
 * so a replica that lost it leaves the rotation) and for operators (which replica answered, the live replicas it
 * sees, how many gateways it has channels with and how many connections it relays). Replica ids only: their internal addresses stay in the database.
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { API_ERROR_CODES, type HealthDto } from '../../../protocol/api';
import { ServiceError } from '../../services/service-error';
import type { AppDeps } from '../app-deps';

/** Longer than this, the database counts as not answering. */
const DATABASE_CHECK_MS = 2000;

export function healthRoutes(api: FastifyInstance, deps: AppDeps): void {
  api.get('/health', { config: { auth: 'none' } }, async (): Promise<HealthDto> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${DATABASE_CHECK_MS} ms`)), DATABASE_CHECK_MS);
    });
    try {
      await Promise.race([sql`select 1`.execute(deps.ctx.store.db), late]);
    } catch (error) {
      throw new ServiceError(
        API_ERROR_CODES.unavailable,
        `this control plane cannot reach its database (${(error as Error).message}); check the database, or use another replica`,
      );
    } finally {
      clearTimeout(timer);
    }
    const status = deps.replicaStatus();
    return {
      ok: true,
      replicaId: status.replicaId,
      replicas: status.replicas.map((r) => ({ id: r.id })),
      connectedGateways: status.connectedGateways,
      streams: status.streams,
    };
  });
}
