import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deeplyNested, element, rawOpMsg, rawOpQuery, rawSequence } from '../test/raw-messages';
import { buildDocument } from './bson-build';
import { CommandRefused, readCommand } from './command-identity';
import { OP_MSG_FLAGS } from './constants';
import { encodeOpCompressed } from './op-compressed';
import { encodeOpMsg } from './op-msg';
import { encodeOpQuery } from './op-query';

const db = element('$db', 'admin');

function refusal(raw: Buffer): CommandRefused {
  try {
    readCommand(raw);
  } catch (error) {
    if (error instanceof CommandRefused) return error;
    throw error;
  }
  assert.fail('the command was accepted');
}

describe('readCommand', () => {
  it('names the command by its first element in byte order, not by JavaScript key order', () => {
    // Decoded, {"0": 1, saslStart: 1} would enumerate "0" first either way; here the bytes say "find" first.
    const identity = readCommand(rawOpMsg([element('find', 'items'), element('0', 1), db]));
    assert.equal(identity.name, 'find');
    assert.equal(identity.database, 'admin');
    assert.equal(readCommand(rawOpMsg([element('0', 1), element('ping', 1), db])).name, '0');
  });

  it('reads OP_QUERY commands on <db>.$cmd, unwrapping $query and query', () => {
    const wrapped = readCommand(
      encodeOpQuery({
        requestId: 4,
        fullCollectionName: 'admin.$cmd',
        query: { $query: { isMaster: 1 }, $readPreference: { mode: 'primary' } },
      }),
    );
    assert.deepEqual([wrapped.name, wrapped.database, wrapped.requestId, wrapped.wrapper !== undefined], ['isMaster', 'admin', 4, true]);
    assert.equal(readCommand(rawOpQuery('shop.$cmd', [element('query', { count: 'c' })])).name, 'count');
    assert.equal(readCommand(rawOpQuery('shop.$cmd', [element('count', 'c'), element('query', { a: 1 })])).name, 'count');
  });

  it('refuses any authentication key at the top level, in any letter case, whatever the command', () => {
    for (const key of [
      'saslStart',
      'SASLSTART',
      'saslContinue',
      'authenticate',
      'logout',
      'speculativeAuthenticate',
      'saslSupportedMechs',
      'copydbsaslstart',
      'getnonce',
      'copydbgetnonce',
    ]) {
      for (const elements of [
        [element(key, 1), db],
        [element('0', 1), element(key, 1), db],
        [element('hello', 1), element(key, 1), db],
      ]) {
        const error = refusal(rawOpMsg(elements));
        assert.equal(error.codeName, 'AuthenticationFailed', key);
      }
    }
    // Inside a $query wrapper, beside it, and inside explain.
    assert.equal(
      refusal(rawOpQuery('admin.$cmd', [element('$query', { isMaster: 1, saslSupportedMechs: 'admin.u' })])).codeName,
      'AuthenticationFailed',
    );
    assert.equal(
      refusal(rawOpQuery('admin.$cmd', [element('$query', { isMaster: 1 }), element('speculativeAuthenticate', {})])).codeName,
      'AuthenticationFailed',
    );
    assert.equal(refusal(rawOpMsg([element('explain', { saslStart: 1 }), db])).codeName, 'AuthenticationFailed');
    // A document sequence named like one.
    assert.equal(
      refusal(rawOpMsg([element('insert', 'c'), db], { sections: [rawSequence('saslStart', [buildDocument([])])] })).codeName,
      'AuthenticationFailed',
    );
    // Nested deeper (a filter value) is data, not a command field.
    assert.equal(readCommand(rawOpMsg([element('find', 'c'), element('filter', { logout: 1 }), db])).name, 'find');
  });

  it('refuses duplicate top-level keys, and several $db as malformed', () => {
    const error = refusal(rawOpMsg([element('hello', 1), element('hello', 1), db]));
    assert.equal(error.codeName, 'FailedToParse');
    assert.equal(error.identity.name, 'hello');
    assert.throws(() => readCommand(rawOpMsg([element('ping', 1), db, element('$db', 'other')])), /\$db appears more than once/);
  });

  it('refuses what it cannot identify: no $db, compressed, legacy opcodes, OP_QUERY on a collection, $query not first', () => {
    assert.throws(() => readCommand(rawOpMsg([element('ping', 1)])), /no \$db/);
    assert.throws(() => readCommand(rawOpMsg([element('ping', 1), element('$db', 1)])), /\$db must be a string/);
    assert.throws(() => readCommand(rawOpMsg([], {})), /empty/);
    const inner = encodeOpMsg({ requestId: 1, body: { ping: 1, $db: 'a' } });
    assert.throws(() => readCommand(encodeOpCompressed(inner, 2)), /compressed messages are not accepted/);
    const legacy = Buffer.alloc(20);
    legacy.writeInt32LE(20, 0);
    legacy.writeInt32LE(2002, 12);
    assert.throws(() => readCommand(legacy), /opcode 2002 is not accepted/);
    assert.throws(() => readCommand(rawOpQuery('shop.items', [element('a', 1)])), /only for commands on <db>.\$cmd/);
    assert.equal(refusal(rawOpQuery('admin.$cmd', [element('ping', 1), element('$query', { saslStart: 1 })])).codeName, 'FailedToParse');
    assert.equal(refusal(rawOpQuery('admin.$cmd', [element('ping', 1), element('$query', { hello: 1 })])).codeName, 'FailedToParse');
  });

  it('refuses nesting deeper than the limit in the body and in document sequences, without a stack overflow', () => {
    const deep = deeplyNested(1_000_000);
    const body = Buffer.concat([Buffer.from([0x03]), Buffer.from('filter\0'), deep]);
    const error = refusal(rawOpMsg([element('find', 'c'), body, db]));
    assert.equal(error.codeName, 'Overflow');
    assert.match(error.message, /nested more than 200 levels/);
    const sequence = rawSequence('documents', [deeplyNested(300)]);
    assert.equal(refusal(rawOpMsg([element('insert', 'c'), db], { sections: [sequence] })).codeName, 'Overflow');
    assert.equal(
      readCommand(rawOpMsg([element('find', 'c'), Buffer.concat([Buffer.from([0x03]), Buffer.from('f\0'), deeplyNested(150)]), db])).name,
      'find',
    );
  });

  it('keeps sequences, flags and request id; verifies a checksum', () => {
    const raw = encodeOpMsg({
      requestId: 77,
      flags: OP_MSG_FLAGS.moreToCome | OP_MSG_FLAGS.checksumPresent,
      body: { insert: 'c', $db: 'app' },
      sequences: [{ identifier: 'documents', documents: [{ a: 1 }, { a: 2 }] }],
    });
    const identity = readCommand(raw);
    assert.equal(identity.requestId, 77);
    assert.equal(identity.moreToCome, true);
    assert.deepEqual(
      identity.sequences.map((s) => [s.identifier, s.documents.length]),
      [['documents', 2]],
    );
    raw[raw.length - 1] ^= 0xff;
    assert.throws(() => readCommand(raw), /checksum mismatch/);
  });
});
