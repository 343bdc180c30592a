/**
 * Test Connection through a real gateway against FerretDB with SCRAM on: the gateway signs in as a stored account,
 * reports a wrong password in the words a session's client would get, reaches a resource alone, tries settings not
 * saved yet, and reports a port that refuses; no session is started and no password reaches the audit log. A
 * password fixed while a session runs is used by that session's next connection. A gateway that is not connected gets
 * gateway_offline.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { startAccess } from '../../proxy-core/access';
import { ApiError } from '../../proxy-core/api-client';
import { freePort } from '../bed/ports';
import { startTunnelBed, type TunnelBed } from './tunnel-harness';

describe('Test Connection through the gateway', () => {
  let bed: TunnelBed;
  let projectId: string;
  before(async () => {
    bed = await startTunnelBed();
    projectId = (await bed.api.listProjects())[0].id;
  });
  after(async () => {
    await bed?.stop();
  });

  it('signs in as the stored account, and explains a wrong password without starting a session', async () => {
    const sessionsBefore = (await bed.api.listSessions({ projectId })).items.length;
    const ok = await bed.api.testAccountConnection(bed.account.id);
    assert.equal(ok.ok, true, ok.message);
    assert.equal(ok.stage, 'authenticate');
    assert.equal(ok.mechanism, 'SCRAM-SHA-256');
    assert.match(ok.message, /^Signed in to the database of resource "ferret" \(\w+\) as setup-admin with SCRAM-SHA-256\.$/);

    const wrong = await bed.api.testAccountConnection(bed.account.id, { password: 'not-the-password' });
    assert.equal(wrong.ok, false);
    assert.equal(wrong.stage, 'authenticate');
    assert.match(
      wrong.message,
      /could not authenticate to the database of resource "ferret" as setup-admin .*Check the account's stored password\./,
    );
    assert.doesNotMatch(wrong.message, /not-the-password/);
    assert.equal((await bed.api.listSessions({ projectId })).items.length, sessionsBefore, 'a test is not a session');

    const audit = (await bed.api.listAudit(projectId, { limit: 50 })).items.filter((e) => e.action === 'account.connection_tested');
    assert.deepEqual(
      audit.map((e) => [e.details.ok, e.details.stage, e.details.newPassword]),
      [
        [false, 'authenticate', true],
        [true, 'authenticate', false],
      ],
    );
    assert.doesNotMatch(JSON.stringify(audit), new RegExp(`${bed.db.password}|not-the-password`));
  });

  it('reaches a resource alone, or with a user about to be added', async () => {
    const alone = await bed.api.testResourceConnection(bed.account.resourceId);
    assert.equal(alone.ok, true, alone.message);
    assert.equal(alone.stage, 'reach');
    assert.match(alone.message, /^Reached the database of resource "ferret" \(\w+\)\. No account was given/);
    const withUser = await bed.api.testResourceConnection(bed.account.resourceId, { username: bed.db.username, password: bed.db.password });
    assert.equal(withUser.ok, true, withUser.message);
    assert.equal(withUser.stage, 'authenticate');
  });

  it('tries settings not saved yet: the right ones sign in, a port that refuses is named as unreachable', async () => {
    const gatewayId = (await bed.api.listGateways(projectId))[0].id;
    const good = await bed.api.testNewResourceConnection({
      projectId,
      name: 'new-db',
      gatewayId,
      connectionString: bed.db.uri,
      authDatabase: 'admin',
      tlsEnabled: false,
      username: bed.db.username,
      password: bed.db.password,
    });
    assert.equal(good.ok, true, good.message);
    assert.match(good.message, /resource "new-db"/);
    const closedPort = await freePort();
    const refused = await bed.api.testNewResourceConnection({
      projectId,
      gatewayId,
      connectionString: `mongodb://127.0.0.1:${closedPort}/`,
      tlsEnabled: false,
    });
    assert.equal(refused.ok, false);
    assert.equal(refused.stage, 'reach');
    assert.match(refused.message, /could not reach the database/);
    assert.match(refused.message, /ECONNREFUSED|refused/i);
  });

  it('a wrong stored password fixed while a session runs: the session’s next connection signs in with the new one', async () => {
    const account = await bed.api.createAccount(bed.account.resourceId, {
      name: 'mistyped',
      username: bed.db.username,
      password: `${bed.db.password}-typo`,
    });
    const handle = await startAccess({ server: bed.server, token: bed.token, accountId: account.id });
    const connectOnce = async () => {
      const client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 5000, retryReads: false });
      try {
        await client.connect();
        return await client.db('admin').command({ ping: 1 });
      } finally {
        await client.close(true);
      }
    };
    try {
      await assert.rejects(connectOnce(), /could not authenticate .*Check the account's stored password/);
      await bed.api.updateAccount(account.id, { password: bed.db.password });
      // The gateway fetches the account again within a second of the change.
      let answer: { ok?: number } | undefined;
      for (let attempt = 0; attempt < 20 && !answer; attempt++) {
        answer = await connectOnce().catch(async () => {
          await new Promise((resolve) => setTimeout(resolve, 100));
          return undefined;
        });
      }
      assert.equal(answer?.ok, 1, 'a new connection signs in with the new password');
      assert.equal((await bed.api.getSession(handle.session.id)).state, 'active', 'the same session');
    } finally {
      await handle.stop();
    }
  });

  it('a gateway that is not connected: gateway_offline, saying to start it', async () => {
    await bed.agent.stop();
    await assert.rejects(bed.api.testAccountConnection(bed.account.id), (error: unknown) => {
      assert.ok(error instanceof ApiError);
      assert.equal(error.code, 'gateway_offline');
      assert.match(error.message, /is not connected to this control plane: start it/);
      return true;
    });
  });
});
