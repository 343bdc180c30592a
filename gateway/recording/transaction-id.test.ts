import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Document, Long, UUID } from 'bson';
import { readCommand } from '../wire/command-identity';
import { encodeOpMsg } from '../wire/op-msg';
import { transactionIdOf } from './transaction-id';

const id = (body: Document) => {
  const raw = encodeOpMsg({ requestId: 1, body: { ...body, $db: 'shop' } });
  return transactionIdOf(raw, readCommand(raw));
};

describe('transactionIdOf', () => {
  const lsid = { id: new UUID('0f2a6d7e-1b3c-4d5e-8f90-a1b2c3d4e5f6') };

  it('is the same on every command of one transaction, commit included, and differs for the next', () => {
    const first = id({ insert: 'c', lsid, txnNumber: Long.fromNumber(1), startTransaction: true, autocommit: false });
    assert.match(first ?? '', /^txn_[a-z2-7]{10}$/);
    assert.equal(id({ find: 'c', lsid, txnNumber: Long.fromNumber(1), autocommit: false }), first);
    assert.equal(id({ commitTransaction: 1, lsid, txnNumber: Long.fromNumber(1), autocommit: false }), first);
    assert.notEqual(id({ insert: 'c', lsid, txnNumber: Long.fromNumber(2), autocommit: false }), first);
    assert.notEqual(id({ insert: 'c', lsid: { id: new UUID() }, txnNumber: Long.fromNumber(1), autocommit: false }), first);
  });

  it('is absent outside transactions: a retryable write has lsid and txnNumber but no autocommit', () => {
    assert.equal(id({ insert: 'c', lsid, txnNumber: Long.fromNumber(1) }), undefined);
    assert.equal(id({ find: 'c', lsid }), undefined);
  });
});
