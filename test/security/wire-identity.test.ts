/**
 * The attacks of the command-identity issue, through the real tunnel (startAccess → relay → gateway → FerretDB
 * with SCRAM on), each written byte by byte as an attacker with an ordinary session would. Each asserts that the
 * connection is still authenticated as the account's user and that no internal host or port reaches the client.
 * On the gateway that named commands by a decoded object's first key, each of these succeeded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Document } from 'bson';
import { MongoClient } from 'mongodb';
import { authenticateWithScram } from '../../gateway/auth/sasl-conversation';
import type { ScramMechanism } from '../../gateway/auth/scram';
import { RawWireClient, replyBody } from '../../gateway/test/harness';
import { element, rawOpMsg, rawOpQuery } from '../../gateway/test/raw-messages';
import { type AccessHandle, startAccess } from '../../proxy-core/access';
import { startTunnelBed, type TunnelBed } from '../e2e/tunnel-harness';

const REPLICA_SET = 'rs-internal-name';
const OTHER_USER = 'other-user';
const OTHER_PASSWORD = 'other-password-9f3b';

let bed: TunnelBed;
let handle: AccessHandle;
let requestId = 100;

/** Strings that would give the deployment away: its address, port and replica-set name. */
function internalNames(): string[] {
  return [`127.0.0.1:${bed.db.port}`, String(bed.db.port), REPLICA_SET];
}

function assertNoInternalNames(raw: Buffer | string, what: string): void {
  const text = typeof raw === 'string' ? raw : raw.toString('latin1');
  for (const name of internalNames()) assert.ok(!text.includes(name), `${what} reveals "${name}": ${text.slice(0, 400)}`);
}

/** One command written element by element: `first` keys in this byte order, then `$db`. */
async function send(client: RawWireClient, elements: Buffer[], database = 'admin'): Promise<{ body: Document; raw: Buffer }> {
  const raw = rawOpMsg([...elements, element('$db', database)], { requestId: requestId++ });
  client.send(raw);
  const reply = await client.next();
  return { body: replyBody(reply), raw: Buffer.from(JSON.stringify(replyBody(reply))) };
}

async function authenticatedUsers(client: RawWireClient): Promise<string[]> {
  const { body } = await send(client, [element('connectionStatus', 1)]);
  assert.equal(body.ok, 1, JSON.stringify(body));
  return (body.authInfo.authenticatedUsers as { user: string }[]).map((u) => u.user);
}

/** A full SCRAM conversation as OTHER_USER, each command carrying `"0": 1` before `$db` (the reported attack). */
function scramWithZeroKey(client: RawWireClient, mechanism: ScramMechanism, extra: Buffer[] = [element('0', 1)]): Promise<void> {
  return authenticateWithScram(
    async (command) => {
      const elements = Object.entries(command).map(([key, value]) => element(key, value));
      const { body } = await send(client, [...elements, ...extra]);
      if (body.ok !== 1) throw new Error(`${body.codeName}: ${body.errmsg}`);
      return body;
    },
    mechanism,
    OTHER_USER,
    OTHER_PASSWORD,
  );
}

describe('security: one identity per command, through the real tunnel', () => {
  before(async () => {
    bed = await startTunnelBed({ db: { replSetName: REPLICA_SET, logLevel: 'info' } });
    const admin = new MongoClient(bed.db.adminUri);
    try {
      await admin.db('admin').command({ createUser: OTHER_USER, pwd: OTHER_PASSWORD, roles: [] });
    } finally {
      await admin.close();
    }
    handle = await startAccess({
      server: bed.server,
      token: bed.token,
      accountId: bed.account.id,
      clientAgent: 'security-test',
      pollIntervalMs: 500,
    });
  });
  after(async () => {
    await handle?.stop().catch(() => {});
    await bed?.stop();
  });

  it('the attack itself is sound: directly against FerretDB the "0"-keyed SCRAM conversation logs in as the other user', async () => {
    const direct = await RawWireClient.open(bed.db.port);
    try {
      await scramWithZeroKey(direct, 'SCRAM-SHA-256');
      assert.deepEqual(await authenticatedUsers(direct), [OTHER_USER]);
    } finally {
      direct.close();
    }
  });

  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-1'] as const) {
    it(`${mechanism} as another user with "0" before $db is refused; the connection stays the account's`, async () => {
      const client = await RawWireClient.open(handle.port);
      try {
        await assert.rejects(
          scramWithZeroKey(client, mechanism),
          /AuthenticationFailed: authentication is handled by the Portcullis gateway/,
        );
        assert.deepEqual(await authenticatedUsers(client), [bed.db.username]);
        const { body } = await send(client, [element('listDatabases', 1), element('nameOnly', true)]);
        assert.equal(body.ok, 1, 'the connection still works as the account');
      } finally {
        client.close();
      }
    });
  }

  it('logout with "0" is refused and the connection keeps its user', async () => {
    const client = await RawWireClient.open(handle.port);
    try {
      const { body } = await send(client, [element('logout', 1), element('0', 1)]);
      assert.equal(body.ok, 0);
      assert.equal(body.codeName, 'AuthenticationFailed');
      const { body: lower } = await send(client, [element('0', 1), element('LogOut', 1)]);
      assert.equal(lower.codeName, 'AuthenticationFailed', 'any letter case, any position');
      assert.deepEqual(await authenticatedUsers(client), [bed.db.username]);
    } finally {
      client.close();
    }
  });

  it('hello with "0" on a replica-set resource is still rewritten: no hosts, set name or port', async () => {
    const client = await RawWireClient.open(handle.port);
    try {
      client.send(rawOpMsg([element('hello', 1), element('0', 1), element('$db', 'admin')], { requestId: requestId++ }));
      const reply = await client.next();
      const body = replyBody(reply);
      assert.equal(body.ok, 1);
      assert.equal(body.hosts, undefined);
      assert.equal(body.setName, undefined);
      assert.equal(body.msg, 'isdbgrid', 'a replica-set member is shown as a mongos');
      assertNoInternalNames(JSON.stringify(body), 'hello');
      // With saslSupportedMechs or speculativeAuthenticate beside "0", refused outright.
      const { body: probing } = await send(client, [
        element('hello', 1),
        element('0', 1),
        element('saslSupportedMechs', `admin.${OTHER_USER}`),
      ]);
      assert.equal(probing.codeName, 'AuthenticationFailed');
      const { body: speculative } = await send(client, [
        element('0', 1),
        element('isMaster', 1),
        element('speculativeAuthenticate', { db: 'admin' }),
      ]);
      assert.equal(speculative.codeName, 'AuthenticationFailed');
      assert.deepEqual(await authenticatedUsers(client), [bed.db.username]);
    } finally {
      client.close();
    }
  });

  // FerretDB answers no OP_QUERY wrapped in $query (UnsupportedOpQueryCommand); the unit tests cover the wrapper.
  it('OP_QUERY isMaster with "0" is rewritten the same way', async () => {
    const client = await RawWireClient.open(handle.port);
    try {
      for (const elements of [
        [element('isMaster', 1), element('0', 1)],
        [element('ismaster', 1), element('0', 1), element('helloOk', true)],
      ]) {
        client.send(rawOpQuery('admin.$cmd', elements, { requestId: requestId++ }));
        const body = replyBody(await client.next());
        assert.equal(body.ok, 1, JSON.stringify(body));
        assert.equal(body.hosts, undefined);
        assert.equal(body.setName, undefined);
        assertNoInternalNames(JSON.stringify(body), 'isMaster');
      }
      assert.deepEqual(await authenticatedUsers(client), [bed.db.username]);
    } finally {
      client.close();
    }
  });

  it('documents with duplicate keys are refused, and the connection goes on', async () => {
    const client = await RawWireClient.open(handle.port);
    try {
      for (const elements of [
        [element('hello', 1), element('saslStart', 1)],
        [element('hello', 1), element('hello', 1)],
        [element('ping', 1), element('ping', 1)],
        [element('find', 'c'), element('filter', {}), element('find', 'd')],
      ]) {
        const { body } = await send(client, elements);
        assert.equal(body.ok, 0, JSON.stringify(body));
        assert.ok(['FailedToParse', 'AuthenticationFailed'].includes(body.codeName), body.codeName);
      }
      assert.deepEqual(await authenticatedUsers(client), [bed.db.username]);
    } finally {
      client.close();
    }
  });

  it('the session log names each refused command by its first key in byte order, as refused', async () => {
    const client = await RawWireClient.open(handle.port);
    try {
      await send(client, [element('saslStart', 1), element('mechanism', 'PLAIN'), element('0', 1)]);
      await send(client, [element('ping', 1)]);
    } finally {
      client.close();
    }
    let events: Awaited<ReturnType<TunnelBed['logs']>> = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      events = await bed.logs(handle.session.id);
      if (events.some((e) => e.kind === 'command' && e.command === 'saslStart')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const refused = events.filter((e) => e.kind === 'command' && e.command === 'saslStart');
    assert.ok(refused.length > 0, 'the refused saslStart is in the log');
    for (const event of refused) assert.equal(event.kind === 'command' && event.outcome, 'error');
    // A command whose first key really is "0" is named so (as the server names it), and was refused, not run.
    for (const event of events) if (event.kind === 'command' && event.command === '0') assert.equal(event.outcome, 'error');
  });
});
