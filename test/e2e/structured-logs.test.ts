/**
 * Structured logs: every line the control plane and the gateway write is one JSON object with `time` (ISO 8601),
 * `level`, `component`, `sessionId` (null when about no session) and `msg` (protocol/log-line.ts), and no secret
 * reaches one: not a password sent to sign in, not a sign-in token, not a database password, not a connection
 * string's password. The gateway's lines come from a real session whose database sign-in fails (FerretDB with SCRAM
 * refuses the account's wrong stored password), which the gateway logs under the session's id.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { jsonGatewayLogger } from '../../gateway/agent/json-logger';
import { startAccess } from '../../proxy-core/access';
import { type ApiServer, startApiServer } from './api-harness';
import { startTunnelBed, type TunnelBed, waitFor } from './tunnel-harness';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

// biome-ignore lint/suspicious/noExplicitAny: log lines are read as JSON
function checkShape(line: string, component: string): any {
  const parsed = JSON.parse(line);
  assert.match(parsed.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, line);
  assert.ok(LEVELS.includes(parsed.level), line);
  assert.equal(parsed.component, component, line);
  assert.ok('sessionId' in parsed && (parsed.sessionId === null || /^ses_/.test(parsed.sessionId)), line);
  assert.equal(typeof parsed.msg, 'string', line);
  return parsed;
}

describe('structured logs', () => {
  describe('the control plane', () => {
    let server: ApiServer;
    before(async () => {
      server = await startApiServer('sqlite');
    });
    after(() => server?.close());

    it('writes one JSON line per event in the shared shape, with no password or token in any', async () => {
      const wrong = 'Wr0ng-Sign-In-Pa55word';
      await server.call('POST', '/auth/login', { body: { email: server.bootstrap.email, password: wrong } });
      const token = await server.login(server.bootstrap.email, server.bootstrap.password);
      await server.call('GET', '/me', { token });
      await server.call('GET', `/sessions/ses_${'a'.repeat(20)}`, { token });
      // A line about a session, as the relay writes them, quoting secrets by mistake: kept apart, and redacted.
      server.cp.fastify.log.warn(
        { sessionId: 'ses_abcdefghijklmnopqrst' },
        `a stream failed (token ${token}, target mongodb://app:Db-Pa55word@db.internal:27017)`,
      );
      const lines = server.logs.flatMap((chunk) => chunk.split('\n')).filter(Boolean);
      assert.ok(lines.length >= 8, `${lines.length} lines`);
      const parsed = lines.map((line) => checkShape(line, 'control-plane'));
      assert.ok(parsed.some((p) => p.msg === 'request completed' && p.sessionId === null));
      const about = parsed.find((p) => p.sessionId === 'ses_abcdefghijklmnopqrst');
      assert.ok(about, 'the session line keeps its sessionId');
      assert.equal(about.level, 'warn');
      assert.match(about.msg, /token \[redacted\], target mongodb:\/\/app:\[redacted\]@db\.internal/);
      for (const secret of [wrong, server.bootstrap.password, token, 'Db-Pa55word']) {
        assert.ok(!lines.some((line) => line.includes(secret)), `a log line holds a secret (${secret.slice(0, 4)}…)`);
      }
    });
  });

  describe('the gateway (--log-format json)', () => {
    let bed: TunnelBed;
    const lines: string[] = [];
    before(async () => {
      bed = await startTunnelBed({ gateway: { logger: jsonGatewayLogger({ write: (text: string) => lines.push(text) }) } });
    });
    after(() => bed?.stop());

    it('logs a session event as a JSON line with the session id, and never the database password', async () => {
      const wrongPassword = 'Wr0ng-Stored-Pa55word';
      const account = await bed.api.createAccount(bed.account.resourceId, {
        name: 'wrong-password',
        username: bed.db.username,
        password: wrongPassword,
      });
      const handle = await startAccess({ server: bed.server, token: bed.token, accountId: account.id, clientAgent: 'logs-test' });
      const client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 5_000 });
      try {
        await assert.rejects(client.db('x').command({ ping: 1 }));
      } finally {
        await client.close().catch(() => {});
      }
      const sessionId = handle.session.id;
      await waitFor(() => lines.some((line) => line.includes(sessionId)), 'a gateway line about the session');
      await handle.stop();
      const parsed = lines.map((line) => {
        assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'), 'one line per event');
        return checkShape(line.trim(), 'gateway');
      });
      assert.ok(parsed.some((p) => p.msg === 'connected to the control plane' && p.level === 'info' && p.sessionId === null));
      const failure = parsed.find((p) => p.sessionId === sessionId);
      assert.equal(failure.level, 'warn');
      assert.match(failure.msg, /authenticat/i);
      for (const secret of [wrongPassword, bed.db.password, bed.token]) {
        assert.ok(!lines.some((line) => line.includes(secret)), 'a gateway log line holds a secret');
      }
    });
  });
});
