import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { fieldAad, newWrappedDataKey, unwrapDataKey } from './envelope';
import { ProjectKeys } from './project-keys';

/** A stand-in for a database handle: the loader records which one each read went through. */
interface Handle {
  name: string;
}

describe('ProjectKeys', () => {
  it('unwraps each project key once, keeps projects apart, and does not cache a failure', async () => {
    const root = randomBytes(32);
    const wrapped = new Map([
      ['prj_a', newWrappedDataKey(root)],
      ['prj_b', newWrappedDataKey(root)],
    ]);
    const loads: string[] = [];
    const db: Handle = { name: 'db' };
    const keys = new ProjectKeys<Handle>(root, async (_handle, id) => {
      loads.push(id);
      return wrapped.get(id);
    });

    const [first, second] = await Promise.all([keys.dataKey(db, 'prj_a'), keys.dataKey(db, 'prj_a')]);
    assert.ok(first.equals(second));
    assert.ok(first.equals(unwrapDataKey(root, wrapped.get('prj_a')!)));
    await keys.dataKey(db, 'prj_a');
    assert.deepEqual(loads, ['prj_a']);

    const aad = fieldAad('acc_x', 'password');
    const sealed = await keys.encrypt(db, 'prj_a', 'secret', aad);
    assert.equal(await keys.decrypt(db, 'prj_a', sealed, aad), 'secret');
    await assert.rejects(keys.decrypt(db, 'prj_b', sealed, aad), /integrity check/);

    await assert.rejects(keys.dataKey(db, 'prj_new'), /project prj_new does not exist/);
    wrapped.set('prj_new', newWrappedDataKey(root));
    assert.equal((await keys.dataKey(db, 'prj_new')).length, 32);

    keys.forget('prj_a');
    await keys.dataKey(db, 'prj_a');
    assert.equal(loads.filter((id) => id === 'prj_a').length, 2);
  });

  it('reads an uncached key through the handle the caller gives, and shares a load only with callers on that handle', async () => {
    const root = randomBytes(32);
    const wrappedKey = newWrappedDataKey(root);
    const outer: Handle = { name: 'outer' };
    const trx: Handle = { name: 'trx' };
    const reads: string[] = [];
    let failTrx = true;
    const keys = new ProjectKeys<Handle>(root, async (handle, _id) => {
      reads.push(handle.name);
      await new Promise((r) => setImmediate(r));
      if (handle === trx && failTrx) throw new Error('current transaction is aborted');
      return wrappedKey;
    });

    // A load through a failing transaction fails its own callers only; the outer handle's caller reads on its own.
    const [inTrx, outside] = await Promise.allSettled([keys.dataKey(trx, 'prj_a'), keys.dataKey(outer, 'prj_a')]);
    assert.equal(inTrx.status, 'rejected');
    assert.equal(outside.status, 'fulfilled');
    assert.deepEqual(reads, ['trx', 'outer']);

    // Once a key is known, no handle is used at all.
    failTrx = false;
    const aad = fieldAad('res_x', 'ca_certificate');
    assert.equal(await keys.decrypt(trx, 'prj_a', await keys.encrypt(trx, 'prj_a', 'pem', aad), aad), 'pem');
    assert.deepEqual(reads, ['trx', 'outer']);

    // An uncached key inside a transaction is read through the transaction.
    await keys.encrypt(trx, 'prj_b', 'pem', aad);
    assert.deepEqual(reads, ['trx', 'outer', 'trx']);
  });
});
