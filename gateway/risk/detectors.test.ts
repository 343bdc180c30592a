import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Document, Double, Long } from 'bson';
import type { RiskFlag } from '../../protocol/session-log';
import { element, rawOpMsg, rawOpQuery, rawSequence } from '../test/raw-messages';
import { makeRandom, type Random } from '../test/seeded-random';
import { buildDocument } from '../wire/bson-build';
import { CommandRefused, readCommand } from '../wire/command-identity';
import { detectRisks, type RiskContext } from './detectors';

const shop = element('$db', 'shop');

/** Flags of an OP_MSG made of `elements` (plus document sequences). */
function flagsOf(elements: Buffer[], sequences: Buffer[] = [], context?: RiskContext): RiskFlag[] {
  const raw = rawOpMsg(elements, { sections: sequences });
  return detectRisks(raw, readCommand(raw), context);
}

function ids(flags: RiskFlag[]): string[] {
  return flags.map((f) => f.id);
}

/** A document made of these elements, in this order (what a JavaScript object cannot express). */
function doc(...elements: Buffer[]): Buffer {
  return buildDocument(elements);
}

/** An element whose value is a document (or array, type 0x04) made of `elements`, in this order. */
function documentElement(key: string, elements: Buffer[], type = 0x03): Buffer {
  return Buffer.concat([Buffer.from([type]), Buffer.from(`${key}\0`, 'utf8'), buildDocument(elements)]);
}

/** An array element of these raw documents. */
function arrayOf(key: string, documents: Buffer[]): Buffer {
  return documentElement(
    key,
    documents.map((d, i) => Buffer.concat([Buffer.from([0x03]), Buffer.from(`${i}\0`, 'latin1'), d])),
    0x04,
  );
}

const deleteMany = (filter: Document) => doc(element('q', filter), element('limit', 0));
const deleteOne = (filter: Document) => doc(element('q', filter), element('limit', 1));
const updateMany = (filter: Document) => doc(element('q', filter), element('u', { $set: { a: 1 } }), element('multi', true));
const updateOne = (filter: Document) => doc(element('q', filter), element('u', { $set: { a: 1 } }), element('multi', false));

/** A nested document whose only element has an unknown BSON type: readCommand accepts it (it does not walk small commands). */
const MALFORMED_FILTER = (() => {
  const inner = Buffer.from([8, 0, 0, 0, 0x20, 0x61, 0, 0]);
  return Buffer.concat([Buffer.from([0x03]), Buffer.from('filter\0', 'latin1'), inner]);
})();

describe('detectRisks: drop', () => {
  it('flags dropDatabase, drop and dropIndexes of every index', () => {
    assert.deepEqual(flagsOf([element('dropDatabase', 1), shop]), [{ id: 'drop', severity: 'high', detail: 'dropDatabase shop' }]);
    assert.deepEqual(flagsOf([element('drop', 'orders'), shop]), [{ id: 'drop', severity: 'high', detail: 'drop shop.orders' }]);
    assert.deepEqual(flagsOf([element('dropIndexes', 'orders'), element('index', '*'), shop]), [
      { id: 'drop', severity: 'high', detail: 'dropIndexes of every index on shop.orders' },
    ]);
    assert.deepEqual(ids(flagsOf([element('deleteIndexes', 'orders'), element('index', '*'), shop])), ['drop']);
  });

  it('does not flag dropping named indexes, nor dropping users or reading', () => {
    assert.deepEqual(flagsOf([element('dropIndexes', 'orders'), element('index', 'status_1'), shop]), []);
    assert.deepEqual(flagsOf([element('dropIndexes', 'orders'), element('index', ['a_1', 'b_1']), shop]), []);
    assert.deepEqual(flagsOf([element('dropIndexes', 'orders'), element('index', { status: 1 }), shop]), []);
    assert.deepEqual(flagsOf([element('find', 'drop'), shop]), []);
    assert.deepEqual(flagsOf([element('listCollections', 1), shop]), []);
  });

  it('compares command names after folding ASCII case only', () => {
    assert.deepEqual(flagsOf([element('DROPDATABASE', 1), shop]), [{ id: 'drop', severity: 'high', detail: 'dropDatabase shop' }]);
    assert.deepEqual(ids(flagsOf([element('Drop', 'orders'), shop])), ['drop']);
    // U+0130 lower-cases to "i̇" in JavaScript, U+212A (Kelvin) to "k": neither is an ASCII letter to the server.
    assert.deepEqual(flagsOf([element('dropİndexes', 'orders'), element('index', '*'), shop]), []);
  });

  it('reads OP_QUERY commands on <db>.$cmd, wrapped or not', () => {
    const plain = rawOpQuery('shop.$cmd', [element('dropDatabase', 1)]);
    assert.deepEqual(ids(detectRisks(plain, readCommand(plain))), ['drop']);
    const wrapped = rawOpQuery('shop.$cmd', [documentElement('$query', [element('drop', 'orders')])]);
    assert.deepEqual(detectRisks(wrapped, readCommand(wrapped)), [{ id: 'drop', severity: 'high', detail: 'drop shop.orders' }]);
  });

  it('takes the command from the first key in byte order', () => {
    // A decoded object would enumerate "0" first; the server runs drop.
    assert.deepEqual(ids(flagsOf([element('drop', 'orders'), element('0', 1), shop])), ['drop']);
    // Here the server runs the command "0" (and refuses it): not a drop.
    assert.deepEqual(flagsOf([element('0', 1), element('drop', 'orders'), shop]), []);
  });
});

describe('detectRisks: empty-filter-write', () => {
  it('flags deleteMany({}) in the body array and in the document sequence', () => {
    const expected = [{ id: 'empty-filter-write', severity: 'high', detail: 'deleteMany with an empty filter on shop.orders' }];
    assert.deepEqual(flagsOf([element('delete', 'orders'), arrayOf('deletes', [deleteMany({})]), shop]), expected);
    assert.deepEqual(flagsOf([element('delete', 'orders'), shop], [rawSequence('deletes', [deleteMany({})])]), expected);
  });

  it('flags updateMany({}, ...) in the body array and in the document sequence', () => {
    const expected = [{ id: 'empty-filter-write', severity: 'high', detail: 'updateMany with an empty filter on shop.orders' }];
    assert.deepEqual(flagsOf([element('update', 'orders'), arrayOf('updates', [updateMany({})]), shop]), expected);
    assert.deepEqual(flagsOf([element('update', 'orders'), shop], [rawSequence('updates', [updateMany({})])]), expected);
    // multi as a number, and a pipeline update.
    const numeric = doc(element('q', {}), element('u', [{ $set: { a: 1 } }]), element('multi', 1));
    assert.deepEqual(ids(flagsOf([element('update', 'orders'), shop], [rawSequence('updates', [numeric])])), ['empty-filter-write']);
  });

  it('reads limit 0 of any numeric type', () => {
    for (const limit of [new Long(0), new Double(0), new Double(-0)]) {
      const entry = doc(element('q', {}), element('limit', limit));
      assert.deepEqual(ids(flagsOf([element('delete', 'orders'), shop], [rawSequence('deletes', [entry])])), ['empty-filter-write']);
    }
  });

  it('flags one empty entry among several, once', () => {
    const sequence = rawSequence('deletes', [deleteMany({ status: 'x' }), deleteMany({}), deleteOne({}), deleteMany({})]);
    assert.deepEqual(ids(flagsOf([element('delete', 'orders'), shop], [sequence])), ['empty-filter-write']);
  });

  it('does not flag a filter, a single-document write, or findAndModify', () => {
    const harmless: [Buffer[], Buffer[]][] = [
      [[element('delete', 'orders'), shop], [rawSequence('deletes', [deleteMany({ status: 'x' })])]],
      [[element('delete', 'orders'), arrayOf('deletes', [deleteMany({ status: 'x' })]), shop], []],
      [[element('delete', 'orders'), shop], [rawSequence('deletes', [deleteOne({})])]],
      [[element('delete', 'orders'), arrayOf('deletes', [deleteOne({})]), shop], []],
      [[element('delete', 'orders'), shop], [rawSequence('deletes', [doc(element('q', {}))])]],
      [[element('update', 'orders'), shop], [rawSequence('updates', [updateMany({ status: 'x' })])]],
      [[element('update', 'orders'), arrayOf('updates', [updateMany({ status: 'x' })]), shop], []],
      [[element('update', 'orders'), shop], [rawSequence('updates', [updateOne({})])]],
      [[element('update', 'orders'), shop], [rawSequence('updates', [doc(element('q', {}), element('u', { a: 1 }))])]],
      [[element('update', 'orders'), arrayOf('updates', [updateOne({})]), shop], []],
      [[element('findAndModify', 'orders'), element('query', {}), element('remove', true), shop], []],
      // `deletes` under another command means nothing.
      [[element('insert', 'orders'), shop], [rawSequence('documents', [deleteMany({})])]],
    ];
    for (const [elements, sequences] of harmless) assert.deepEqual(flagsOf(elements, sequences), []);
  });

  it('takes the command from the first key in byte order', () => {
    const entries = arrayOf('deletes', [deleteMany({})]);
    assert.deepEqual(ids(flagsOf([element('delete', 'orders'), element('0', 1), entries, shop])), ['empty-filter-write']);
    assert.deepEqual(flagsOf([element('0', 1), element('delete', 'orders'), entries, shop]), []);
  });

  it('flags bulkWrite deleteMany/updateMany with an empty filter, naming the nsInfo namespace', () => {
    const admin = element('$db', 'admin');
    const nsInfo = rawSequence('nsInfo', [doc(element('ns', 'shop.orders')), doc(element('ns', 'shop.carts'))]);
    const many = rawSequence('ops', [
      doc(element('insert', 0), element('document', {})),
      doc(element('delete', 1), element('filter', {}), element('multi', true)),
    ]);
    assert.deepEqual(flagsOf([element('bulkWrite', 1), admin], [many, nsInfo]), [
      { id: 'empty-filter-write', severity: 'high', detail: 'deleteMany with an empty filter on shop.carts' },
    ]);
    const update = arrayOf('ops', [
      doc(element('update', 0), element('filter', {}), element('updateMods', { $set: { a: 1 } }), element('multi', true)),
    ]);
    assert.deepEqual(flagsOf([element('bulkWrite', 1), update, admin], [nsInfo]), [
      { id: 'empty-filter-write', severity: 'high', detail: 'updateMany with an empty filter on shop.orders' },
    ]);
    const single = rawSequence('ops', [doc(element('delete', 0), element('filter', {}), element('multi', false))]);
    assert.deepEqual(flagsOf([element('bulkWrite', 1), admin], [single, nsInfo]), []);
    const filtered = rawSequence('ops', [doc(element('delete', 0), element('filter', { a: 1 }), element('multi', true))]);
    assert.deepEqual(flagsOf([element('bulkWrite', 1), admin], [filtered, nsInfo]), []);
  });
});

describe('detectRisks: user-admin', () => {
  const names = [
    'createUser',
    'updateUser',
    'dropUser',
    'grantRolesToUser',
    'revokeRolesFromUser',
    'createRole',
    'updateRole',
    'dropRole',
    'grantPrivilegesToRole',
    'revokePrivilegesFromRole',
    'grantRolesToRole',
    'revokeRolesFromRole',
  ];

  it('flags every user and role command', () => {
    for (const name of names) {
      assert.deepEqual(flagsOf([element(name, 'alice'), element('$db', 'admin')]), [
        { id: 'user-admin', severity: 'high', detail: `${name} alice on admin` },
      ]);
    }
    for (const name of ['dropAllUsersFromDatabase', 'dropAllRolesFromDatabase']) {
      assert.deepEqual(flagsOf([element(name, 1), shop]), [{ id: 'user-admin', severity: 'high', detail: `${name} on shop` }]);
    }
  });

  it('does not flag looking at users and roles', () => {
    assert.deepEqual(flagsOf([element('usersInfo', 1), shop]), []);
    assert.deepEqual(flagsOf([element('rolesInfo', 1), element('showPrivileges', true), shop]), []);
    assert.deepEqual(flagsOf([element('connectionStatus', 1), element('$db', 'admin')]), []);
  });
});

describe('detectRisks: server-js', () => {
  it('flags mapReduce', () => {
    const flags = flagsOf([
      element('mapReduce', 'orders'),
      element('map', 'function() {}'),
      element('reduce', 'function() {}'),
      element('out', { inline: 1 }),
      shop,
    ]);
    assert.deepEqual(flags, [{ id: 'server-js', severity: 'medium', detail: 'mapReduce on shop.orders' }]);
  });

  it('flags $where, $function and $accumulator keys anywhere, in any ASCII case', () => {
    assert.deepEqual(flagsOf([element('find', 'orders'), element('filter', { $where: 'this.a > 1' }), shop]), [
      { id: 'server-js', severity: 'medium', detail: '$where in find' },
    ]);
    const fn = { $function: { body: 'function(x) { return x }', args: ['$a'], lang: 'js' } };
    assert.deepEqual(
      ids(
        flagsOf([
          element('aggregate', 'orders'),
          element('pipeline', [{ $match: {} }, { $project: { x: { $add: [fn, 1] } } }]),
          element('cursor', {}),
          shop,
        ]),
      ),
      ['server-js'],
    );
    const accumulator = { $accumulator: { init: 'function() {}', accumulate: 'f', merge: 'f', lang: 'js' } };
    assert.deepEqual(
      ids(flagsOf([element('aggregate', 'orders'), element('pipeline', [{ $group: { _id: null, v: accumulator } }]), shop])),
      ['server-js'],
    );
    assert.deepEqual(ids(flagsOf([element('count', 'orders'), element('query', { a: { $elemMatch: { $WHERE: 'x' } } }), shop])), [
      'server-js',
    ]);
    // In a document sequence (an update's filter) and in an array.
    const update = doc(element('q', { $or: [{ a: 1 }, { $where: 'x' }] }), element('u', { $set: { a: 1 } }));
    assert.deepEqual(ids(flagsOf([element('update', 'orders'), shop], [rawSequence('updates', [update])])), ['server-js']);
    // As a document-sequence identifier (a top-level field name), and $OUT folded like the rest.
    assert.deepEqual(ids(flagsOf([element('find', 'orders'), shop], [rawSequence('$where', [doc(element('a', 1))])])), ['server-js']);
    assert.deepEqual(ids(flagsOf([element('aggregate', 'orders'), element('pipeline', [{ $OUT: { db: 'archive', coll: 'o' } }]), shop])), [
      'cross-database-write',
    ]);
    // Twice, flagged once.
    assert.equal(flagsOf([element('find', 'orders'), element('filter', { $where: 'x', b: { $where: 'y' } }), shop]).length, 1);
  });

  it('looks at keys, not string values', () => {
    for (const value of ['$where', '$function', '$accumulator', '$out']) {
      assert.deepEqual(flagsOf([element('find', 'orders'), element('filter', { note: value, tags: { $in: [value] } }), shop]), []);
    }
    // Near misses.
    assert.deepEqual(flagsOf([element('find', 'orders'), element('filter', { where: 1, $wher: 1, $whereX: 1, $functions: 1 }), shop]), []);
  });

  it('does not scan the documents an insert stores (decided: data, never evaluated)', () => {
    assert.deepEqual(flagsOf([element('insert', 'orders'), shop], [rawSequence('documents', [doc(element('$where', 'x'))])]), []);
    assert.deepEqual(flagsOf([element('insert', 'orders'), element('documents', [{ a: { $function: 1 } }]), shop]), []);
  });

  it('flags inside explain, saying so', () => {
    assert.deepEqual(flagsOf([documentElement('explain', [element('find', 'orders'), element('filter', { $where: 'x' })]), shop]), [
      { id: 'server-js', severity: 'medium', detail: '$where in explain' },
    ]);
    const mapReduce = [element('mapReduce', 'orders'), element('map', 'f'), element('reduce', 'f'), element('out', { inline: 1 })];
    assert.deepEqual(flagsOf([documentElement('explain', mapReduce), shop]), [
      { id: 'server-js', severity: 'medium', detail: 'mapReduce on shop.orders (in explain)' },
    ]);
  });
});

describe('detectRisks: cross-database-write', () => {
  const aggregate = (stage: Document) => [
    element('aggregate', 'orders'),
    element('pipeline', [{ $match: {} }, stage]),
    element('cursor', {}),
    shop,
  ];

  it('flags $out and $merge into another database', () => {
    assert.deepEqual(flagsOf(aggregate({ $out: { db: 'archive', coll: 'orders2024' } })), [
      { id: 'cross-database-write', severity: 'medium', detail: '$out to archive.orders2024 from shop' },
    ]);
    assert.deepEqual(flagsOf(aggregate({ $merge: { into: { db: 'archive', coll: 'orders' }, on: '_id' } })), [
      { id: 'cross-database-write', severity: 'medium', detail: '$merge to archive.orders from shop' },
    ]);
  });

  it('does not flag $out or $merge into the same database', () => {
    assert.deepEqual(flagsOf(aggregate({ $out: { db: 'shop', coll: 'copy' } })), []);
    assert.deepEqual(flagsOf(aggregate({ $out: 'copy' })), []);
    assert.deepEqual(flagsOf(aggregate({ $merge: { into: { db: 'shop', coll: 'copy' } } })), []);
    assert.deepEqual(flagsOf(aggregate({ $merge: { into: 'copy' } })), []);
    assert.deepEqual(flagsOf(aggregate({ $merge: 'copy' })), []);
    // A string value naming another database is not a stage.
    assert.deepEqual(flagsOf([element('find', 'orders'), element('filter', { target: '$out', db: 'archive' }), shop]), []);
  });

  it('flags inside explain, and mapReduce output to another database', () => {
    const explained = [
      documentElement('explain', [element('aggregate', 'orders'), element('pipeline', [{ $out: { db: 'archive', coll: 'o' } }])]),
      shop,
    ];
    assert.deepEqual(flagsOf(explained), [
      { id: 'cross-database-write', severity: 'medium', detail: '$out to archive.o from shop (in explain)' },
    ]);
    const mapReduce = [
      element('mapReduce', 'orders'),
      element('map', 'f'),
      element('reduce', 'f'),
      element('out', { replace: 'totals', db: 'reports' }),
      shop,
    ];
    assert.deepEqual(flagsOf(mapReduce), [
      { id: 'server-js', severity: 'medium', detail: 'mapReduce on shop.orders' },
      { id: 'cross-database-write', severity: 'medium', detail: 'mapReduce out to reports.totals from shop' },
    ]);
  });
});

describe('detectRisks: explain', () => {
  it('does not flag the explained drop, empty-filter write or user administration', () => {
    assert.deepEqual(flagsOf([documentElement('explain', [element('drop', 'orders')]), shop]), []);
    assert.deepEqual(flagsOf([documentElement('explain', [element('delete', 'orders'), arrayOf('deletes', [deleteMany({})])]), shop]), []);
    assert.deepEqual(flagsOf([documentElement('explain', [element('update', 'orders'), arrayOf('updates', [updateMany({})])]), shop]), []);
    assert.deepEqual(flagsOf([documentElement('explain', [element('createUser', 'x')]), shop]), []);
    assert.deepEqual(flagsOf([element('explain', 1), shop]), []);
  });
});

describe('detectRisks: context', () => {
  it('flags a refused authentication, naming the key', () => {
    const raw = rawOpMsg([element('saslStart', 1), element('mechanism', 'SCRAM-SHA-256'), element('$db', 'admin')]);
    const error = (() => {
      try {
        readCommand(raw);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    assert.ok(error instanceof CommandRefused);
    assert.deepEqual(detectRisks(raw, error.identity, { authenticationRefused: true }), [
      { id: 'auth-attempt', severity: 'high', detail: 'saslStart refused (the gateway authenticates to the database itself)' },
    ]);
    const hello = rawOpMsg([element('hello', 1), element('speculativeAuthenticate', { saslStart: 1 }), element('$db', 'admin')]);
    assert.throws(() => readCommand(hello), CommandRefused);
    try {
      readCommand(hello);
    } catch (caught) {
      assert.deepEqual(ids(detectRisks(hello, (caught as CommandRefused).identity)), []);
      assert.deepEqual(detectRisks(hello, (caught as CommandRefused).identity, { authenticationRefused: true }), [
        {
          id: 'auth-attempt',
          severity: 'high',
          detail: 'hello with speculativeAuthenticate refused (the gateway authenticates to the database itself)',
        },
      ]);
    }
  });

  it('flags a policy refusal, naming the rule, with what the command tried', () => {
    assert.deepEqual(flagsOf([element('find', 'orders'), shop], [], { refusedBy: 'databases' }), [
      { id: 'policy-refusal', severity: 'medium', detail: 'find on shop refused by the account policy (databases)' },
    ]);
    assert.deepEqual(flagsOf([element('dropDatabase', 1), shop], [], { refusedBy: 'denied' }), [
      { id: 'drop', severity: 'high', detail: 'dropDatabase shop' },
      { id: 'policy-refusal', severity: 'medium', detail: 'dropDatabase on shop refused by the account policy (denied)' },
    ]);
  });
});

describe('detectRisks: robustness', () => {
  it('returns what was found from a malformed nested document, without throwing', () => {
    assert.deepEqual(flagsOf([element('find', 'orders'), MALFORMED_FILTER, shop]), []);
    assert.deepEqual(ids(flagsOf([element('find', 'orders'), MALFORMED_FILTER, shop], [], { refusedBy: 'read-only' })), ['policy-refusal']);
    // The name detector still flags a drop whose other fields cannot be read.
    assert.deepEqual(ids(flagsOf([element('drop', 'orders'), MALFORMED_FILTER, shop])), ['drop']);
    const malformedEntry = Buffer.concat([Buffer.from([0x03]), Buffer.from('0\0', 'latin1'), Buffer.from([8, 0, 0, 0, 0x20, 0x61, 0, 0])]);
    const deletes = documentElement('deletes', [malformedEntry], 0x04);
    assert.deepEqual(flagsOf([element('delete', 'orders'), deletes, shop]), []);
  });

  it('flags several ids in RISK_FLAG_IDS order', () => {
    const raw = [
      element('mapReduce', 'orders'),
      element('map', 'f'),
      element('reduce', 'f'),
      element('query', { $where: 'x' }),
      element('out', { replace: 'o', db: 'x' }),
      shop,
    ];
    assert.deepEqual(ids(flagsOf(raw, [], { refusedBy: 'denied' })), ['server-js', 'cross-database-write', 'policy-refusal']);
  });

  it('flags nothing for everyday commands', () => {
    for (const elements of [
      [element('find', 'orders'), element('filter', { status: 'x', n: { $gt: 1 } }), element('limit', 10), shop],
      [element('getMore', new Long(12)), element('collection', 'orders'), shop],
      [element('insert', 'orders'), element('documents', [{ a: 1 }]), shop],
      [element('aggregate', 'orders'), element('pipeline', [{ $match: { a: 1 } }, { $group: { _id: '$a', n: { $sum: 1 } } }]), shop],
      [element('hello', 1), element('$db', 'admin')],
      [element('ping', 1), element('$db', 'admin')],
      [element('create', 'orders'), shop],
      [element('createIndexes', 'orders'), element('indexes', [{ key: { a: 1 }, name: 'a_1' }]), shop],
    ]) {
      assert.deepEqual(flagsOf(elements), []);
    }
  });
});

/** Property: generated find filters made of harmless keys, with dangerous strings as values, are never flagged. */
describe('detectRisks: property', () => {
  const SEED = Number(process.env.FUZZ_SEED ?? 0x51a9f1a6);
  const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 2_000);
  const KEYS = [
    'a',
    'status',
    '0',
    '1',
    '$in',
    '$gt',
    '$and',
    '$or',
    '$expr',
    '$regex',
    'where',
    '$wher',
    'db',
    'coll',
    'into',
    'q',
    'limit',
  ];
  const STRINGS = ['x', '$where', '$function', '$accumulator', '$out', '$merge', 'dropDatabase', 'other', ''];

  function value(random: Random, depth: number): unknown {
    const roll = random.int(depth > 3 ? 3 : 6);
    if (roll === 0) return random.int(100);
    if (roll === 1) return random.pick(STRINGS);
    if (roll === 2) return random.chance(0.5);
    if (roll === 3) return Array.from({ length: random.int(3) }, () => value(random, depth + 1));
    return documentValue(random, depth + 1);
  }

  function documentValue(random: Random, depth: number): Document {
    const out: Document = {};
    const count = random.int(4);
    for (let i = 0; i < count; i++) out[random.pick(KEYS)] = value(random, depth);
    return out;
  }

  it(`never flags a harmless find (seed ${SEED})`, () => {
    const random = makeRandom(SEED);
    for (let i = 0; i < ITERATIONS; i++) {
      const filter = documentValue(random, 0);
      const raw = rawOpMsg([
        element('find', random.pick(['orders', 'drop'])),
        element('filter', filter),
        element('$db', random.pick(['shop', 'admin'])),
      ]);
      assert.deepEqual(detectRisks(raw, readCommand(raw)), [], `seed ${SEED}, iteration ${i}: ${JSON.stringify(filter)}`);
    }
  });
});

describe('detectRisks: cost (printed, not asserted)', () => {
  /** What a driver sends for find with a 20-field filter: lsid, $clusterTime and $db around it. */
  function driverFind(lastValue = 'value 19'): Buffer {
    const filter: Document = {};
    for (let i = 0; i < 19; i++) filter[`field${i}`] = i % 3 === 0 ? { $gte: i } : `value ${i}`;
    filter.field19 = lastValue;
    return rawOpMsg([
      element('find', 'orders'),
      element('filter', filter),
      element('limit', 20),
      element('lsid', { id: Buffer.alloc(16) }),
      element('$clusterTime', { clusterTime: new Long(1), signature: { hash: Buffer.alloc(20), keyId: new Long(0) } }),
      element('$db', 'shop'),
    ]);
  }

  function measure(raw: Buffer): number {
    const identity = readCommand(raw);
    for (let i = 0; i < 20_000; i++) detectRisks(raw, identity);
    const rounds = 200_000;
    const started = process.hrtime.bigint();
    let flags = 0;
    for (let i = 0; i < rounds; i++) flags += detectRisks(raw, identity).length;
    const elapsed = Number(process.hrtime.bigint() - started);
    assert.equal(flags, 0);
    return elapsed / rounds;
  }

  it('find with a 20-field filter, insert, getMore', (t) => {
    const find = measure(driverFind());
    // A string value "$where" defeats the byte pre-filter: every element is walked.
    const walked = measure(driverFind('$where'));
    const insert = measure(rawOpMsg([element('insert', 'orders'), shop], { sections: [rawSequence('documents', [doc(element('a', 1))])] }));
    const getMore = measure(rawOpMsg([element('getMore', new Long(12)), element('collection', 'orders'), shop]));
    const line = `detectRisks: find with a 20-field filter ${find.toFixed(0)} ns (${walked.toFixed(0)} ns when walked), insert ${insert.toFixed(0)} ns, getMore ${getMore.toFixed(0)} ns per call`;
    t.diagnostic(line);
    console.log(line);
  });
});
