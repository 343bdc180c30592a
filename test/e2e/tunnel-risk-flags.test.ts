/**
 * Risk flags through the real tunnel (issue 14): each detector flags its case, sent by the official driver or built
 * byte by byte, and leaves its harmless neighbour alone; the flags are stored with the log event, counted on the
 * session, and sessions can be listed by flag.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { RawWireClient, replyBody } from '../../gateway/test/harness';
import { element, rawOpMsg } from '../../gateway/test/raw-messages';
import type { CommandEvent } from '../../protocol/session-log';
import { type AccessHandle, startAccess } from '../../proxy-core/access';
import { type SmtpTestServer, startSmtpServer } from '../bed/smtp';
import { loggedCommands, startTunnelBed, type TunnelBed, waitFor } from './tunnel-harness';

let bed: TunnelBed;
let smtp: SmtpTestServer;
const handles: AccessHandle[] = [];
const clients: MongoClient[] = [];

async function session(accountId = bed.account.id): Promise<{ handle: AccessHandle; client: MongoClient }> {
  const handle = await startAccess({ server: bed.server, token: bed.token, accountId });
  handles.push(handle);
  const client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 10_000, retryWrites: false, retryReads: false });
  clients.push(client);
  return { handle, client };
}

/** Runs `operation`, ignoring the database's answer (some of these FerretDB does not support; the flag is the point). */
async function attempt(operation: () => Promise<unknown>): Promise<void> {
  try {
    await operation();
  } catch {
    // refused or unsupported: recorded all the same
  }
}

const commands = (handle: AccessHandle, count: number): Promise<CommandEvent[]> => loggedCommands(bed, handle.session.id, count);

describe('risk flags through the tunnel', () => {
  before(async () => {
    smtp = await startSmtpServer();
    bed = await startTunnelBed({
      config: { flagEmails: true },
      smtp: { host: smtp.host, port: smtp.port, secure: false, from: 'portcullis@example.com' },
    });
  });

  after(async () => {
    for (const client of clients) await client.close(true).catch(() => undefined);
    for (const handle of handles) await handle.stop().catch(() => undefined);
    await bed?.stop();
    await smtp?.stop();
  });

  it('a session’s first high-severity flag emails the admins once; medium flags alone email nobody', async () => {
    const quiet = await session();
    await attempt(() => quiet.client.db('shop').collection('orders').find({ $where: 'true' }).toArray()); // medium
    const risky = await session();
    const scratch = risky.client.db('scratch');
    await scratch.collection<{ _id: number }>('a').insertOne({ _id: 1 });
    await scratch.collection<{ _id: number }>('b').insertOne({ _id: 1 });
    await scratch.collection('a').drop();
    await commands(risky.handle, 3);
    await scratch.collection('b').drop(); // a second high flag, in a later batch
    await commands(risky.handle, 4);
    await commands(quiet.handle, 1);
    const mail = await smtp.waitForMessage((m) => m.text.includes(risky.handle.session.id));
    assert.match(mail.subject, /high-risk command in .*'s session on ferret \/ setup-admin/);
    assert.deepEqual(mail.to, [(await bed.api.me()).user.email.toLowerCase()]);
    assert.match(mail.text, /drop: drop scratch\.a/);
    assert.match(mail.text, new RegExp(`portcullis session terminate ${risky.handle.session.id}`));
    // Give a second email (and the quiet session's) time to arrive, then count.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(smtp.messages.filter((m) => m.text.includes(risky.handle.session.id)).length, 1);
    assert.equal(smtp.messages.filter((m) => m.text.includes(quiet.handle.session.id)).length, 0);
  });

  it('each detector flags its case and not its harmless neighbour; the session counts them and lists by flag', async () => {
    const { handle, client } = await session();
    const orders = client.db('shop').collection<{ _id: number; status: string }>('orders');
    await orders.insertMany([
      { _id: 1, status: 'new' },
      { _id: 2, status: 'x' },
      { _id: 3, status: 'y' },
    ]);
    await orders.deleteMany({ status: 'nothing' }); // neighbour: a filter
    await orders.updateMany({ status: 'nothing' }, { $set: { status: 'z' } }); // neighbour: a filter
    await orders.deleteOne({}); // neighbour: one document
    await orders.updateMany({}, { $set: { status: 'all' } }); // flagged: every document
    await orders.deleteMany({}); // flagged: every document
    await attempt(() => orders.find({ $where: 'true' }).toArray()); // flagged: server-side JavaScript
    await orders.find({ note: '$where' }).toArray(); // neighbour: a string value
    await attempt(() => orders.aggregate([{ $match: {} }, { $out: { db: 'elsewhere', coll: 'copy' } }]).toArray()); // flagged
    await attempt(() => client.db('shop').command({ createUser: 'intruder', pwd: 'Pw-123456-x', roles: [] })); // flagged
    await client
      .db('scratch')
      .collection('t')
      .insertOne({ _id: 1 } as never);
    await client.db('scratch').collection('t').drop(); // flagged
    await client.db('scratch').dropDatabase(); // flagged

    // Built byte by byte: an authentication attempt the gateway refuses.
    const raw = await RawWireClient.open(handle.port);
    try {
      raw.send(rawOpMsg([element('saslStart', 1), element('mechanism', 'SCRAM-SHA-256'), element('$db', 'admin')], { requestId: 7 }));
      assert.equal(replyBody(await raw.next()).codeName, 'AuthenticationFailed');
    } finally {
      raw.socket.destroy();
    }

    const logged = await commands(handle, 14);
    const flagsOf = (name: string) => logged.filter((c) => c.command === name).map((c) => (c.flags ?? []).map((f) => f.id).join(','));
    assert.deepEqual(flagsOf('delete'), ['', '', 'empty-filter-write'], 'deleteMany with a filter and deleteOne({}) are not flagged');
    assert.deepEqual(flagsOf('update'), ['', 'empty-filter-write']);
    assert.deepEqual(flagsOf('find'), ['server-js', '']);
    assert.deepEqual(flagsOf('aggregate'), ['cross-database-write']);
    assert.deepEqual(flagsOf('createUser'), ['user-admin']);
    assert.deepEqual(flagsOf('drop'), ['drop']);
    assert.deepEqual(flagsOf('dropDatabase'), ['drop']);
    assert.deepEqual(flagsOf('saslStart'), ['auth-attempt']);
    assert.deepEqual(flagsOf('insert'), ['', '']);
    const drop = logged.find((c) => c.command === 'dropDatabase')?.flags?.[0];
    assert.equal(drop?.severity, 'high');
    assert.match(drop?.detail ?? '', /scratch/);

    const flagged = logged.flatMap((c) => c.flags ?? []);
    await waitFor(async () => (await bed.api.getSession(handle.session.id)).flagCount === flagged.length, 'the session to count its flags');
    const dto = await bed.api.getSession(handle.session.id);
    assert.equal(dto.highFlagCount, flagged.filter((f) => f.severity === 'high').length);

    // A quiet session next to it: listed by no flag.
    const { handle: quiet, client: quietClient } = await session();
    await quietClient.db('shop').collection('orders').find({}).toArray();
    await commands(quiet, 1);
    const ids = async (flag: 'drop' | 'server-js' | 'policy-refusal') =>
      (await bed.api.listSessions({ flag })).items.map((s) => s.id).filter((id) => id === handle.session.id || id === quiet.session.id);
    assert.deepEqual(await ids('drop'), [handle.session.id]);
    assert.deepEqual(await ids('server-js'), [handle.session.id]);
    assert.deepEqual(await ids('policy-refusal'), []);
    assert.equal((await bed.api.getSession(quiet.session.id)).flagCount, 0);
  });

  it('a command refused by the account’s policy is flagged as such', async () => {
    const reader = await bed.api.createAccount(bed.account.resourceId, {
      name: 'flag-reader',
      username: bed.db.username,
      password: bed.db.password,
      policy: { mode: 'read-only' },
    });
    const { handle, client } = await session(reader.id);
    await attempt(() =>
      client
        .db('shop')
        .collection('orders')
        .insertOne({ _id: 9 } as never),
    );
    const [insert] = (await commands(handle, 1)).filter((c) => c.command === 'insert');
    assert.equal(insert.outcome, 'refused');
    assert.deepEqual(
      insert.flags?.map((f) => [f.id, f.severity]),
      [['policy-refusal', 'medium']],
    );
    assert.match(insert.flags?.[0].detail ?? '', /read-only/);
    assert.deepEqual(
      (await bed.api.listSessions({ flag: 'policy-refusal' })).items.map((s) => s.id),
      [handle.session.id],
    );
  });
});
