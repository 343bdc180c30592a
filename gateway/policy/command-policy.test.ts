import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Document, deserialize } from 'bson';
import { type AccountPolicy, DEFAULT_POLICY, POLICY_PRESETS } from '../../protocol/policy';
import { element, rawOpMsg, rawOpQuery, rawSequence } from '../test/raw-messages';
import { makeRandom, type Random } from '../test/seeded-random';
import { buildDocument } from '../wire/bson-build';
import { readCommand } from '../wire/command-identity';
import { WireProtocolError } from '../wire/errors';
import { CommandPolicy, type PolicyRefusal } from './command-policy';

const ACCOUNT = 'reporting';

function policyOf(fields: Partial<AccountPolicy>): AccountPolicy {
  return { ...DEFAULT_POLICY, databases: [], denied: [], ...fields };
}

/** Checks an OP_MSG made of `elements` (plus document sequences) against a policy. */
function check(fields: Partial<AccountPolicy>, elements: Buffer[], sequences: Buffer[] = []): PolicyRefusal | undefined {
  const raw = rawOpMsg(elements, { sections: sequences });
  return new CommandPolicy(policyOf(fields), ACCOUNT).check(raw, readCommand(raw));
}

function checkRaw(fields: Partial<AccountPolicy>, raw: Buffer): PolicyRefusal | undefined {
  return new CommandPolicy(policyOf(fields), ACCOUNT).check(raw, readCommand(raw));
}

const db = (name: string) => element('$db', name);
const app = db('app');

/** An element whose value is a document made of `elements`, in this order (what a JavaScript object cannot express). */
function documentElement(key: string, elements: Buffer[], type = 0x03): Buffer {
  return Buffer.concat([Buffer.from([type]), Buffer.from(`${key}\0`, 'utf8'), buildDocument(elements)]);
}

function refused(result: PolicyRefusal | undefined, rule: PolicyRefusal['rule']): string {
  assert.ok(result, 'the command was allowed');
  assert.equal(result.rule, rule, result.message);
  return result.message;
}

/** A nested document whose only element has an unknown BSON type: readCommand accepts it (it does not walk small commands). */
const MALFORMED_FILTER = (() => {
  const inner = Buffer.from([8, 0, 0, 0, 0x20, 0x61, 0, 0]);
  return Buffer.concat([Buffer.from([0x03]), Buffer.from('filter\0', 'latin1'), inner]);
})();

describe('CommandPolicy: the default policy', () => {
  const policy = new CommandPolicy(policyOf({}), ACCOUNT);

  it('allows everything', () => {
    for (const elements of [
      [element('dropDatabase', 1), app],
      [element('insert', 'c'), element('documents', [{ a: 1 }]), app],
      [element('find', 'c'), element('filter', { $where: 'true' }), db('other')],
      [element('aggregate', 'c'), element('pipeline', [{ $out: { db: 'x', coll: 'y' } }]), app],
      [element('applyOps', []), db('admin')],
    ]) {
      const raw = rawOpMsg(elements);
      assert.equal(policy.check(raw, readCommand(raw)), undefined);
    }
    assert.equal(policy.filtersDatabases, false);
    assert.ok(policy.allowsDatabase('anything'));
  });

  it('reads nothing beyond the identity (a malformed nested document is not even looked at)', () => {
    const raw = rawOpMsg([element('find', 'c'), MALFORMED_FILTER, app]);
    const identity = readCommand(raw);
    assert.equal(policy.check(raw, identity), undefined);
    assert.equal(new CommandPolicy(policyOf({ databases: ['app'] }), ACCOUNT).check(raw, identity), undefined);
    // Walking is done only when a rule needs it; then a malformed document is an error, as in readCommand.
    assert.throws(() => new CommandPolicy(policyOf({ denied: ['$where'] }), ACCOUNT).check(raw, identity), WireProtocolError);
  });
});

describe('CommandPolicy: read-only', () => {
  const readOnly: Partial<AccountPolicy> = { mode: 'read-only' };

  it('allows reads, catalog, sessions and connection commands, in any letter case', () => {
    for (const elements of [
      [element('find', 'c'), element('filter', { a: 1 }), app],
      [element('getMore', 1), element('collection', 'c'), app],
      [element('killCursors', 'c'), element('cursors', [1]), app],
      [element('count', 'c'), app],
      [element('distinct', 'c'), element('key', 'a'), app],
      [element('listCollections', 1), app],
      [element('listIndexes', 'c'), app],
      [element('listDatabases', 1), db('admin')],
      [element('hello', 1), db('admin')],
      [element('isMaster', 1), db('admin')],
      [element('ismaster', 1), db('admin')],
      [element('ISMASTER', 1), db('admin')],
      [element('buildinfo', 1), db('admin')],
      [element('endSessions', []), db('admin')],
      [element('aggregate', 'c'), element('pipeline', [{ $match: { a: 1 } }]), element('cursor', {}), app],
    ]) {
      assert.equal(check(readOnly, elements), undefined, JSON.stringify(deserialize(buildDocument(elements))));
    }
  });

  it('refuses everything else, naming the account and the command', () => {
    assert.equal(
      refused(check(readOnly, [element('insert', 'c'), element('documents', [{ a: 1 }]), app]), 'read-only'),
      'the account "reporting" is read-only (Portcullis policy): insert is not allowed; ask an admin for an account that may write',
    );
    for (const name of ['update', 'delete', 'findAndModify', 'create', 'drop', 'createIndexes', 'mapReduce', 'bulkWrite', 'INSERT']) {
      assert.match(refused(check(readOnly, [element(name, 'c'), app]), 'read-only'), new RegExp(`: ${name} is not allowed;`));
    }
  });

  it('names the command by its first key in byte order, not by a decoded object', () => {
    // Decoded, {insert: "c", "0": 1} enumerates "0" first; the server (and readCommand) run insert.
    const raw = rawOpMsg([element('insert', 'c'), element('0', 1), element('documents', [{ a: 1 }]), app]);
    assert.equal(Object.keys(deserialize(raw.subarray(21)))[0], '0');
    assert.match(refused(checkRaw(readOnly, raw), 'read-only'), /: insert is not allowed/);
    // And the other way round: {"0": 1, find: "c"} is a command named "0", not a find.
    assert.match(refused(check(readOnly, [element('0', 1), element('find', 'c'), app]), 'read-only'), /: 0 is not allowed/);
  });

  it('refuses aggregate with $out or $merge anywhere in the command, keys only', () => {
    const aggregate = (pipeline: Document[]) => [element('aggregate', 'c'), element('pipeline', pipeline), element('cursor', {}), app];
    assert.equal(
      refused(check(readOnly, aggregate([{ $match: {} }, { $out: 'copy' }])), 'read-only'),
      'the account "reporting" is read-only (Portcullis policy): aggregate with $out is not allowed; ask an admin for an account that may write',
    );
    assert.match(refused(check(readOnly, aggregate([{ $merge: { into: 'copy' } }])), 'read-only'), /aggregate with \$merge/);
    assert.match(refused(check(readOnly, aggregate([{ $OUT: 'copy' }])), 'read-only'), /with \$OUT/);
    // Not valid where they are, but refused anyway: $out inside a $lookup pipeline, inside $facet.
    const nested = [{ $lookup: { from: 'b', as: 'j', pipeline: [{ $match: {} }, { $out: 'x' }] } }];
    assert.match(refused(check(readOnly, aggregate(nested)), 'read-only'), /with \$out/);
    assert.match(refused(check(readOnly, aggregate([{ $facet: { a: [{ $merge: 'x' }] } }])), 'read-only'), /with \$merge/);
    // Strings and keys without the $ are data.
    assert.equal(check(readOnly, aggregate([{ $match: { a: '$out' } }, { $project: { out: 1, merge: '$merge' } }])), undefined);
  });

  it('refuses $out sent as a document sequence', () => {
    const raw = rawOpMsg([element('aggregate', 'c'), element('cursor', {}), app], {
      sections: [rawSequence('pipeline', [buildDocument([element('$out', 'copy')])])],
    });
    assert.match(refused(checkRaw(readOnly, raw), 'read-only'), /aggregate with \$out/);
  });

  it('allows explain only of what it allows', () => {
    const explain = (command: Document) => [element('explain', command), element('verbosity', 'queryPlanner'), app];
    assert.equal(check(readOnly, explain({ find: 'c', filter: { a: 1 } })), undefined);
    assert.equal(check(readOnly, explain({ aggregate: 'c', pipeline: [{ $match: {} }], cursor: {} })), undefined);
    assert.equal(
      refused(check(readOnly, explain({ insert: 'c', documents: [{ a: 1 }] })), 'read-only'),
      'the account "reporting" is read-only (Portcullis policy): explain of insert is not allowed; ask an admin for an account that may write',
    );
    assert.match(refused(check(readOnly, explain({ Update: 'c', updates: [] })), 'read-only'), /explain of Update is not allowed/);
    assert.match(
      refused(check(readOnly, explain({ aggregate: 'c', pipeline: [{ $merge: 'x' }] })), 'read-only'),
      /explain of aggregate with \$merge/,
    );
    // The explained command is its first key in byte order.
    const explained = documentElement('explain', [element('delete', 'c'), element('0', 1), element('deletes', [])]);
    assert.match(refused(check(readOnly, [explained, app]), 'read-only'), /explain of delete/);
    const explainedZero = documentElement('explain', [element('0', 1), element('find', 'c')]);
    assert.match(refused(check(readOnly, [explainedZero, app]), 'read-only'), /explain of 0/);
    assert.match(refused(check(readOnly, [element('explain', 1), app]), 'read-only'), /explain without a command to explain/);
    assert.match(refused(check(readOnly, [element('explain', {}), app]), 'read-only'), /explain without a command to explain/);
  });

  it('applies to OP_QUERY commands too', () => {
    assert.match(
      refused(checkRaw(readOnly, rawOpQuery('app.$cmd', [element('$query', { insert: 'c', documents: [] })])), 'read-only'),
      /insert/,
    );
    assert.equal(checkRaw(readOnly, rawOpQuery('app.$cmd', [element('find', 'c')])), undefined);
    assert.equal(checkRaw(readOnly, rawOpQuery('admin.$cmd', [element('isMaster', 1)])), undefined);
  });
});

describe('CommandPolicy: databases', () => {
  const databases: Partial<AccountPolicy> = { databases: ['app', 'logs_*'] };
  const policy = new CommandPolicy(policyOf(databases), ACCOUNT);

  it('allows commands on the listed databases and patterns', () => {
    for (const name of ['app', 'logs_', 'logs_2024']) assert.equal(check(databases, [element('find', 'c'), db(name)]), undefined, name);
    assert.equal(policy.filtersDatabases, true);
    assert.ok(policy.allowsDatabase('logs_x') && !policy.allowsDatabase('other') && !policy.allowsDatabase('App'));
  });

  it('refuses other databases, naming the account, the list and the database', () => {
    assert.equal(
      refused(check(databases, [element('find', 'c'), db('other')]), 'databases'),
      'the account "reporting" may use only the databases app, logs_* (Portcullis policy): "other" is not one of them',
    );
    assert.match(refused(check(databases, [element('find', 'c'), db('App')]), 'databases'), /"App" is not one of them/);
    assert.match(refused(check(databases, [element('find', 'c'), db('admin')]), 'databases'), /"admin" is not one of them/);
    assert.match(refused(checkRaw(databases, rawOpQuery('other.$cmd', [element('find', 'c')])), 'databases'), /"other"/);
  });

  it('lists at most ten patterns in a refusal', () => {
    const many = { databases: Array.from({ length: 13 }, (_, i) => `db${i}`) };
    assert.match(
      refused(check(many, [element('find', 'c'), db('other')]), 'databases'),
      /databases db0, .*, db9 and 3 more \(Portcullis policy\)/,
    );
  });

  it('allows the connection commands anywhere and the server-level ones on admin', () => {
    for (const name of ['hello', 'isMaster', 'ismaster', 'ping']) {
      assert.equal(check(databases, [element(name, 1), db('test')]), undefined, name);
    }
    for (const elements of [
      [element('buildInfo', 1)],
      [element('listDatabases', 1), element('nameOnly', true)],
      [element('connectionStatus', 1)],
      [element('endSessions', [])],
      [element('startSession', 1)],
      [element('commitTransaction', 1)],
      [element('abortTransaction', 1)],
      [element('whatsmyuri', 1)],
      [element('hostInfo', 1)],
      [element('getCmdLineOpts', 1)],
      [element('getParameter', 1), element('featureCompatibilityVersion', 1)],
      [element('atlasVersion', 1)],
      [element('getLog', 'startupWarnings')],
    ]) {
      assert.equal(check(databases, [...elements, db('admin')]), undefined, JSON.stringify(deserialize(buildDocument(elements))));
      assert.ok(check(databases, [...elements, db('other')]), 'only on admin');
    }
    assert.match(refused(check(databases, [element('getLog', 'global'), db('admin')]), 'databases'), /"admin"/);
    assert.ok(check(databases, [element('serverStatus', 1), db('admin')]));
    assert.ok(check(databases, [element('currentOp', 1), db('admin')]));
  });

  it('checks where aggregate writes and reads: $out, $merge, $lookup, $graphLookup, $unionWith', () => {
    const aggregate = (pipeline: Document[]) => [element('aggregate', 'c'), element('pipeline', pipeline), element('cursor', {}), app];
    assert.equal(
      refused(check(databases, aggregate([{ $out: { db: 'other', coll: 'c' } }])), 'databases'),
      'the account "reporting" may use only the databases app, logs_* (Portcullis policy): "other" is not one of them (named by $out)',
    );
    assert.match(refused(check(databases, aggregate([{ $merge: { into: { db: 'other', coll: 'c' } } }])), 'databases'), /"other".*\$merge/);
    assert.match(
      refused(check(databases, aggregate([{ $lookup: { from: { db: 'local', coll: 'oplog.rs' }, as: 'o', pipeline: [] } }])), 'databases'),
      /"local".*\$lookup/,
    );
    assert.match(
      refused(check(databases, aggregate([{ $facet: { a: [{ $unionWith: { coll: { db: 'config', coll: 'x' } } }] } }])), 'databases'),
      /"config".*\$unionWith/,
    );
    for (const pipeline of [
      [{ $out: 'copy' }],
      [{ $out: { db: 'logs_2024', coll: 'c' } }],
      [{ $merge: 'copy' }],
      [{ $merge: { into: 'copy', on: '_id' } }],
      [{ $merge: { into: { db: 'app', coll: 'c' } } }],
      [{ $lookup: { from: 'b', as: 'j', localField: 'a', foreignField: 'b' } }],
      [{ $match: { db: 'other' } }],
    ]) {
      assert.equal(check(databases, aggregate(pipeline)), undefined, JSON.stringify(pipeline));
    }
    // Every db field counts, not only the one a decoded object would keep.
    const twice = documentElement('$out', [element('db', 'app'), element('db', 'other'), element('coll', 'c')]);
    const pipeline = documentElement('pipeline', [documentElement('0', [twice])], 0x04);
    assert.match(refused(check(databases, [element('aggregate', 'c'), pipeline, app]), 'databases'), /"other"/);
  });

  it('checks the same in explain, views and mapReduce', () => {
    assert.match(
      refused(
        check(databases, [element('explain', { aggregate: 'c', pipeline: [{ $out: { db: 'other', coll: 'c' } }] }), app]),
        'databases',
      ),
      /"other"/,
    );
    assert.match(
      refused(
        check(databases, [
          element('create', 'v'),
          element('viewOn', 'c'),
          element('pipeline', [{ $lookup: { from: { db: 'other', coll: 'c' }, as: 'x', pipeline: [] } }]),
          app,
        ]),
        'databases',
      ),
      /"other"/,
    );
    assert.match(
      refused(check(databases, [element('mapReduce', 'c'), element('out', { replace: 'r', db: 'other' }), app]), 'databases'),
      /"other" is not one of them \(named by mapReduce out\)/,
    );
    assert.equal(check(databases, [element('mapReduce', 'c'), element('out', { replace: 'r', db: 'logs_1' }), app]), undefined);
  });

  it('checks both namespaces of renameCollection (and other admin commands that name namespaces) instead of admin', () => {
    const rename = (from: string, to: string) => [element('renameCollection', from), element('to', to), db('admin')];
    assert.equal(check(databases, rename('app.a', 'logs_1.b')), undefined);
    assert.equal(
      refused(check(databases, rename('app.a', 'other.b')), 'databases'),
      'the account "reporting" may use only the databases app, logs_* (Portcullis policy): "other" is not one of them (named by renameCollection to)',
    );
    assert.match(
      refused(check(databases, rename('other.a', 'app.b')), 'databases'),
      /"other" is not one of them \(named by renameCollection\)/,
    );
    assert.match(
      refused(check(databases, [element('renameCollection', 1), element('to', 'app.b'), db('admin')]), 'databases'),
      /renameCollection must be a string/,
    );
    assert.equal(check(databases, [element('shardCollection', 'app.c'), element('key', { _id: 1 }), db('admin')]), undefined);
    assert.match(refused(check(databases, [element('shardCollection', 'other.c'), db('admin')]), 'databases'), /"other"/);
    assert.match(refused(check(databases, [element('enableSharding', 'other'), db('admin')]), 'databases'), /"other"/);
    // Run elsewhere than admin, it is an ordinary command on that database.
    assert.match(refused(check(databases, rename('app.a', 'app.b').slice(0, 2).concat(db('other'))), 'databases'), /"other"/);
  });

  it('checks the namespaces of bulkWrite (on admin), in the body and in its nsInfo document sequence', () => {
    const ops = rawSequence('ops', [buildDocument([element('insert', 0), element('document', { a: 1 })])]);
    const nsInfo = (...namespaces: unknown[]) =>
      rawSequence(
        'nsInfo',
        namespaces.map((ns) => buildDocument([element('ns', ns)])),
      );
    assert.equal(check(databases, [element('bulkWrite', 1), db('admin')], [ops, nsInfo('app.c', 'logs_1.d')]), undefined);
    assert.match(
      refused(check(databases, [element('bulkWrite', 1), db('admin')], [ops, nsInfo('app.c', 'other.d')]), 'databases'),
      /"other" is not one of them \(named by bulkWrite nsInfo\)/,
    );
    assert.match(refused(check(databases, [element('bulkWrite', 1), db('admin')], [ops, nsInfo(5)]), 'databases'), /must be a string/);
    const inBody = [element('bulkWrite', 1), element('ops', []), element('nsInfo', [{ ns: 'app.c' }, { ns: 'other.c' }]), db('admin')];
    assert.match(refused(check(databases, inBody), 'databases'), /"other"/);
    assert.match(refused(check(databases, [element('bulkWrite', 1), db('other')], [ops, nsInfo('app.c')]), 'databases'), /"other"/);
  });

  it('refuses applyOps, which can write to any database', () => {
    assert.match(
      refused(check({ databases: ['app', 'admin'] }, [element('applyOps', []), db('admin')]), 'databases'),
      /applyOps can write to any database/,
    );
  });
});

describe('CommandPolicy: denied', () => {
  it('refuses denied commands, in any letter case', () => {
    const denied: Partial<AccountPolicy> = { denied: ['dropDatabase', 'Find'] };
    assert.equal(
      refused(check(denied, [element('dropDatabase', 1), app]), 'denied'),
      'the account "reporting" may not run dropDatabase (Portcullis policy: denied commands)',
    );
    assert.match(refused(check(denied, [element('DROPDATABASE', 1), app]), 'denied'), /may not run DROPDATABASE/);
    assert.match(refused(check(denied, [element('find', 'c'), app]), 'denied'), /may not run find/);
    assert.equal(check(denied, [element('drop', 'c'), app]), undefined);
    assert.equal(check(denied, [element('findAndModify', 'c'), app]), undefined);
  });

  it('refuses a denied command inside explain', () => {
    const denied: Partial<AccountPolicy> = { denied: ['find'] };
    assert.match(refused(check(denied, [element('explain', { find: 'c' }), app]), 'denied'), /may not run find/);
    assert.equal(check(denied, [element('explain', { count: 'c' }), app]), undefined);
  });

  it('uses the command name in byte order', () => {
    assert.match(refused(check({ denied: ['insert'] }, [element('insert', 'c'), element('0', 1), app]), 'denied'), /may not run insert/);
    assert.equal(check({ denied: ['insert'] }, [element('0', 1), element('insert', 'c'), app]), undefined);
  });

  it('refuses denied operators as keys anywhere in the command, in any letter case', () => {
    const denied: Partial<AccountPolicy> = { denied: ['$where', '$function'] };
    const deep = { a: { $elemMatch: { $or: [{ b: 1 }, { c: [[{ $where: 'this.x > 1' }]] }] } } };
    assert.equal(
      refused(check(denied, [element('find', 'c'), element('filter', deep), app]), 'denied'),
      'the account "reporting" may not use $where (Portcullis policy: denied operators)',
    );
    assert.match(refused(check(denied, [element('find', 'c'), element('filter', { $WHERE: 'x' }), app]), 'denied'), /may not use \$WHERE/);
    const fn = { $expr: { $function: { body: 'function() { return true }', args: [], lang: 'js' } } };
    assert.match(
      refused(check(denied, [element('aggregate', 'c'), element('pipeline', [{ $match: fn }]), app]), 'denied'),
      /may not use \$function/,
    );
    assert.match(
      refused(check(denied, [element('explain', { find: 'c', filter: { $where: 'x' } }), app]), 'denied'),
      /may not use \$where/,
    );
  });

  it('does not refuse strings or keys that only look like a denied operator', () => {
    const denied: Partial<AccountPolicy> = { denied: ['$where'] };
    assert.equal(
      check(denied, [element('find', 'c'), element('filter', { note: '$where', where: 1, $wherex: 1, a: ['$where'] }), app]),
      undefined,
    );
    assert.equal(check(denied, [element('insert', 'c'), element('documents', [{ text: '$where' }]), app]), undefined);
    assert.equal(check(denied, [element('find', 'c'), element('filter', { a: { $in: ['$where'] } }), app]), undefined);
  });

  it('refuses denied operators in document sequences', () => {
    const denied: Partial<AccountPolicy> = { denied: ['$where'] };
    const updates = rawSequence('updates', [
      buildDocument([element('q', { a: 1 }), element('u', { $set: { b: 1 } })]),
      buildDocument([element('q', { a: { $not: { $where: 'x' } } }), element('u', { $set: { b: 1 } })]),
    ]);
    assert.match(refused(check(denied, [element('update', 'c'), app], [updates]), 'denied'), /may not use \$where/);
    const clean = rawSequence('updates', [buildDocument([element('q', { a: '$where' }), element('u', { $set: { b: 1 } })])]);
    assert.equal(check(denied, [element('update', 'c'), app], [clean]), undefined);
  });

  it('refuses denied operators in an OP_QUERY command', () => {
    const raw = rawOpQuery('app.$cmd', [element('$query', { find: 'c', filter: { $where: 'x' } })]);
    assert.match(refused(checkRaw({ denied: ['$where'] }, raw), 'denied'), /\$where/);
  });

  it('with safe-defaults', () => {
    const safe: Partial<AccountPolicy> = { denied: [...POLICY_PRESETS['safe-defaults']] };
    for (const elements of [
      [element('dropDatabase', 1), app],
      [element('drop', 'c'), app],
      [element('createUser', 'u'), element('pwd', 'p'), element('roles', []), app],
      [element('grantRolesToUser', 'u'), element('roles', []), app],
      [element('mapReduce', 'c'), element('map', 'function(){}'), app],
      [element('shutdown', 1), db('admin')],
    ]) {
      refused(check(safe, elements), 'denied');
    }
    refused(
      check(safe, [element('aggregate', 'c'), element('pipeline', [{ $group: { _id: 1, x: { $accumulator: {} } } }]), app]),
      'denied',
    );
    assert.equal(check(safe, [element('find', 'c'), element('filter', { a: { $gt: 1 } }), app]), undefined);
    assert.equal(check(safe, [element('insert', 'c'), element('documents', [{ a: 1 }]), app]), undefined);
  });
});

describe('CommandPolicy: rules together', () => {
  it('a denied command is reported before read-only, read-only before databases', () => {
    const all: Partial<AccountPolicy> = { mode: 'read-only', databases: ['app'], denied: ['dropDatabase', '$where'] };
    refused(check(all, [element('dropDatabase', 1), db('other')]), 'denied');
    refused(check(all, [element('insert', 'c'), db('other')]), 'read-only');
    refused(check(all, [element('find', 'c'), db('other')]), 'databases');
    refused(check(all, [element('find', 'c'), element('filter', { $where: 'x' }), app]), 'denied');
    assert.equal(check(all, [element('find', 'c'), element('filter', { a: 1 }), app]), undefined);
  });

  it('quotes odd account names and command names safely', () => {
    const policy = new CommandPolicy(policyOf({ mode: 'read-only' }), 'a"b\n');
    const raw = rawOpMsg([element('in\u0001sert', 1), app]);
    assert.equal(
      policy.check(raw, readCommand(raw))?.message,
      'the account "a\\"b\\n" is read-only (Portcullis policy): in\\u0001sert is not allowed; ask an admin for an account that may write',
    );
  });
});

/**
 * Property: a denied operator is refused exactly when a decoded copy of the command (a reader that shares no code
 * with the policy) has that key somewhere, whatever the case, for generated documents without duplicate keys.
 */
describe('CommandPolicy: property', () => {
  const SEED = Number(process.env.FUZZ_SEED ?? 0x9011c7);
  const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 3_000);
  const KEYS = ['a', 'b', '0', '1', '$where', '$WHERE', '$Where', '$wher', '$in', '$whereX', 'where'];
  const STRINGS = ['x', '$where', '$WHERE', ''];

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

  function hasKey(node: unknown, lower: string): boolean {
    if (node === null || typeof node !== 'object') return false;
    for (const [key, child] of Object.entries(node as Document)) {
      if (key.toLowerCase() === lower || hasKey(child, lower)) return true;
    }
    return false;
  }

  it(`refuses exactly the commands that carry the operator as a key (seed ${SEED})`, () => {
    const random = makeRandom(SEED);
    const policy = new CommandPolicy(policyOf({ denied: ['$where'] }), ACCOUNT);
    let refusals = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const filter = documentValue(random, 0);
      const sequence = random.chance(0.3) ? [rawSequence('documents', [buildDocument([element('d', documentValue(random, 1))])])] : [];
      const raw = rawOpMsg([element('find', 'c'), element('filter', filter), app], { sections: sequence });
      const identity = readCommand(raw);
      const decoded = [deserialize(raw.subarray(identity.body.start, identity.body.end))];
      for (const s of identity.sequences) for (const d of s.documents) decoded.push(deserialize(raw.subarray(d.start, d.end)));
      const expected = decoded.some((d) => hasKey(d, '$where'));
      const result = policy.check(raw, identity);
      assert.equal(result !== undefined, expected, `seed ${SEED}, iteration ${i}: ${JSON.stringify(decoded)}`);
      if (result) refusals++;
    }
    assert.ok(refusals > ITERATIONS / 10 && refusals < ITERATIONS, `${refusals} refusals`);
  });

  it(`a default policy allows every generated command (seed ${SEED})`, () => {
    const random = makeRandom(SEED + 1);
    const policy = new CommandPolicy(policyOf({}), ACCOUNT);
    for (let i = 0; i < 500; i++) {
      const raw = rawOpMsg([
        element(random.pick(['find', 'insert', 'dropDatabase', 'applyOps']), 'c'),
        element('filter', documentValue(random, 0)),
        app,
      ]);
      assert.equal(policy.check(raw, readCommand(raw)), undefined);
    }
  });
});
