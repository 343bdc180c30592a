import type { FastifyInstance } from 'fastify';

export function healthRoutes(api: FastifyInstance): void {
  api.get('/health', { config: { auth: 'none' } }, async () => ({ ok: true }));
}
