/**
 * Transaction identity in the session log, through the real tunnel: every command of a multi-document transaction
 * (and its commitTransaction or abortTransaction) carries the same short id, derived from its lsid and txnNumber;
 * another transaction gets another id; commands outside transactions (retryable writes included) get none.
 * FerretDB answers transactions with an error, which does not matter here: what is tested is what the log says
 * about the commands the client sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { renderLogTable } from '../../cli/commands/session';
import type { CommandEvent } from '../../protocol/session-log';
import { type AccessHandle, startAccess } from '../../proxy-core/access';
import { startTunnelBed, type TunnelBed, waitFor } from './tunnel-harness';

let bed: TunnelBed;
let handle: AccessHandle;

describe('tunnel: transaction identity in the session log', () => {
  before(async () => {
    bed = await startTunnelBed();
    handle = await startAccess({
      server: bed.server,
      token: bed.token,
      accountId: bed.account.id,
      clientAgent: 'txn-test',
      pollIntervalMs: 500,
    });
  });
  after(async () => {
    await handle?.stop().catch(() => {});
    await bed?.stop();
  });

  it('ties each transaction’s commands and its commit or abort together', async () => {
    const client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 10_000 });
    try {
      const items = client.db('shop').collection('txn_items');
      await items.insertOne({ outside: true });
      for (const end of ['commit', 'abort'] as const) {
        const session = client.startSession();
        try {
          session.startTransaction();
          await items.insertOne({ end }, { session }).catch(() => {});
          await items.findOne({ end }, { session }).catch(() => {});
          if (end === 'commit') await session.commitTransaction().catch(() => {});
          else await session.abortTransaction().catch(() => {});
        } finally {
          await session.endSession().catch(() => {});
        }
      }
    } finally {
      await client.close();
    }
    let commands: CommandEvent[] = [];
    await waitFor(async () => {
      commands = (await bed.logs(handle.session.id)).filter(
        (e): e is CommandEvent & { seq: number; sessionId: string } => e.kind === 'command',
      );
      return commands.some((c) => c.command === 'abortTransaction');
    }, 'the abort in the log');
    const byCommand = (name: string) => commands.filter((c) => c.command === name);
    const [commit] = byCommand('commitTransaction');
    const [abort] = byCommand('abortTransaction');
    assert.match(commit.transaction ?? '', /^txn_[a-z2-7]{10}$/);
    assert.match(abort.transaction ?? '', /^txn_[a-z2-7]{10}$/);
    assert.notEqual(commit.transaction, abort.transaction, 'two transactions, two ids');
    const inserts = byCommand('insert');
    assert.equal(inserts.filter((c) => c.transaction === undefined).length, 1, 'the insert outside any transaction has none');
    for (const id of [commit.transaction, abort.transaction]) {
      const members = commands.filter((c) => c.transaction === id).map((c) => c.command);
      assert.ok(members.includes('insert'), `${id}: ${members.join(', ')}`);
    }
    const table = renderLogTable(
      commands.map((c, i) => ({ ...c, seq: i, sessionId: handle.session.id })),
      false,
    );
    assert.match(table, /TRANSACTION/i);
    assert.ok(table.includes(commit.transaction as string), 'session logs shows the id');
  });
});
