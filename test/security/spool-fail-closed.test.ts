/**
 * The gateway fails closed when it cannot write its log spool: through the real tunnel, a command that would run
 * unrecorded is refused with a clear error and never reaches the database.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { type AccessHandle, startAccess } from '../../proxy-core/access';
import { startTunnelBed, type TunnelBed } from '../e2e/tunnel-harness';

let bed: TunnelBed;
let handle: AccessHandle;

describe('security: no command runs unrecorded', () => {
  before(async () => {
    // A folder that cannot be created: the spool never opens.
    bed = await startTunnelBed({ gateway: { spoolDir: '/dev/full/spool' } });
    handle = await startAccess({
      server: bed.server,
      token: bed.token,
      accountId: bed.account.id,
      clientAgent: 'fail-closed',
      pollIntervalMs: 500,
    });
  });
  after(async () => {
    await handle?.stop().catch(() => {});
    await bed?.stop();
  });

  it('refuses the insert with the reason, and the database never sees it', async () => {
    const client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 10_000, retryWrites: false });
    try {
      await assert.rejects(
        client
          .db('audit')
          .collection('c')
          .insertOne({ _id: 'unrecorded' as never }),
        /the command was not run: the gateway has no log spool/,
      );
    } finally {
      await client.close();
    }
    const direct = new MongoClient(bed.db.adminUri);
    try {
      assert.equal(await direct.db('audit').collection('c').countDocuments({}), 0);
    } finally {
      await direct.close();
    }
  });
});
