/**
 * `GET /api/v1/health` as a load balancer and an operator use it: which replica answered and the live replicas it
 * sees (here, itself), and 503 with a clear error once its database stops answering, so that a replica that lost
 * its database leaves the balancer's rotation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HealthDto } from '../../protocol/api';
import { type PostgresDatabase, startPostgres } from '../bed/postgres';
import { type ApiServer, startApiServer } from './api-harness';

describe('GET /health', () => {
  let database: PostgresDatabase;
  let server: ApiServer;

  before(async () => {
    // A PostgreSQL server of this test's own, so that it can be stopped under the control plane.
    database = await startPostgres();
    server = await startApiServer('sqlite', { databaseUrl: database.url });
  });

  after(async () => {
    await server?.close();
    await database?.stop();
  });

  it('names the replica that answered and the live replicas it sees, without authentication', async () => {
    const health = await server.call<HealthDto>('GET', '/health');
    assert.equal(health.status, 200, JSON.stringify(health.body));
    assert.equal(health.body.ok, true);
    assert.match(health.body.replicaId, /^rep_[A-Za-z0-9_-]{12}$/);
    assert.deepEqual(health.body.replicas, [{ id: health.body.replicaId }]);
    assert.equal(health.body.connectedGateways, 0);
    assert.equal(health.body.streams, 0);
    assert.doesNotMatch(JSON.stringify(health.body), /127\.0\.0\.1|localhost/, 'no internal address is shown');
  });

  it('answers 503 unavailable, naming the database, once the database is gone', async () => {
    await database.stop();
    const health = await server.call('GET', '/health', { deadlineMs: 10_000 });
    assert.equal(health.status, 503, JSON.stringify(health.body));
    assert.equal(health.body.error.code, 'unavailable');
    assert.match(health.body.error.message, /cannot reach its database/);
  });
});
