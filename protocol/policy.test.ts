import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AccountPolicy, DEFAULT_POLICY, POLICY_PRESETS, READ_ONLY_COMMANDS, validatePolicy } from './policy';

function valid(input: unknown): AccountPolicy {
  const result = validatePolicy(input);
  if ('error' in result) assert.fail(`refused: ${result.error}`);
  return result.policy;
}

function error(input: unknown): string {
  const result = validatePolicy(input);
  if ('policy' in result) assert.fail(`accepted: ${JSON.stringify(result.policy)}`);
  return result.error;
}

describe('DEFAULT_POLICY', () => {
  it('is read-write, any database, nothing denied, no reason, and frozen all the way down', () => {
    assert.deepEqual(
      { ...DEFAULT_POLICY },
      { mode: 'read-write', databases: [], denied: [], reasonRequired: false, approvalRequired: false },
    );
    assert.ok(Object.isFrozen(DEFAULT_POLICY));
    assert.ok(Object.isFrozen(DEFAULT_POLICY.databases));
    assert.ok(Object.isFrozen(DEFAULT_POLICY.denied));
  });
});

describe('POLICY_PRESETS', () => {
  const safe = POLICY_PRESETS['safe-defaults'];

  it('safe-defaults denies dropping, user and role administration and server-side JavaScript', () => {
    for (const name of [
      'dropDatabase',
      'drop',
      'createUser',
      'updateUser',
      'dropUser',
      'dropAllUsersFromDatabase',
      'grantRolesToUser',
      'revokeRolesFromUser',
      'createRole',
      'updateRole',
      'dropRole',
      'dropAllRolesFromDatabase',
      'grantPrivilegesToRole',
      'revokePrivilegesFromRole',
      'grantRolesToRole',
      'revokeRolesFromRole',
      '$where',
      '$function',
      '$accumulator',
      'mapReduce',
      'shutdown',
      'fsync',
      'applyOps',
    ]) {
      assert.ok(safe.includes(name), name);
    }
  });

  it('is a valid denied list, without duplicates, and frozen', () => {
    assert.deepEqual(valid({ denied: [...safe] }).denied, [...safe]);
    assert.equal(new Set(safe.map((s) => s.toLowerCase())).size, safe.length);
    assert.ok(Object.isFrozen(POLICY_PRESETS) && Object.isFrozen(safe));
  });
});

describe('READ_ONLY_COMMANDS', () => {
  const lower = new Set(READ_ONLY_COMMANDS.map((c) => c.toLowerCase()));

  it('holds the reads and connection commands clients need', () => {
    for (const name of ['hello', 'isMaster', 'ping', 'find', 'getMore', 'killCursors', 'aggregate', 'count', 'distinct', 'explain']) {
      assert.ok(lower.has(name.toLowerCase()), name);
    }
    for (const name of ['listDatabases', 'listCollections', 'listIndexes', 'endSessions', 'buildInfo', 'getParameter']) {
      assert.ok(lower.has(name.toLowerCase()), name);
    }
  });

  it('holds no command that writes or changes the server', () => {
    for (const name of [
      'insert',
      'update',
      'delete',
      'findAndModify',
      'bulkWrite',
      'create',
      'createIndexes',
      'drop',
      'dropDatabase',
      'dropIndexes',
      'renameCollection',
      'collMod',
      'mapReduce',
      'applyOps',
      'createUser',
      'setParameter',
      'killOp',
      'profile',
      'validate',
      'compact',
      'shutdown',
      'fsync',
    ]) {
      assert.ok(!lower.has(name.toLowerCase()), name);
    }
  });

  it('is exact command names, each once, and frozen', () => {
    assert.equal(lower.size, READ_ONLY_COMMANDS.length);
    for (const name of READ_ONLY_COMMANDS) assert.match(name, /^[A-Za-z][A-Za-z0-9_]*$/);
    assert.ok(Object.isFrozen(READ_ONLY_COMMANDS));
  });
});

describe('validatePolicy', () => {
  it('fills missing fields from DEFAULT_POLICY', () => {
    assert.deepEqual(valid({}), { mode: 'read-write', databases: [], denied: [], reasonRequired: false, approvalRequired: false });
    assert.deepEqual(valid({ mode: 'read-only' }), {
      mode: 'read-only',
      databases: [],
      denied: [],
      reasonRequired: false,
      approvalRequired: false,
    });
  });

  it('accepts a full policy and returns copies, duplicates removed (denied entries case-insensitively)', () => {
    const input = {
      mode: 'read-only',
      databases: ['app', 'logs_*', 'tenant_??', 'app'],
      denied: ['dropDatabase', '$where', 'DROPDATABASE', '$WHERE', 'drop_all2'],
      reasonRequired: true,
      approvalRequired: true,
    };
    const policy = valid(input);
    assert.deepEqual(policy, {
      mode: 'read-only',
      databases: ['app', 'logs_*', 'tenant_??'],
      denied: ['dropDatabase', '$where', 'drop_all2'],
      reasonRequired: true,
      approvalRequired: true,
    });
    assert.notEqual(policy.databases, input.databases);
    policy.databases.push('x');
    assert.equal(input.databases.length, 4);
    // The defaults are not shared either.
    valid({}).denied.push('x');
    assert.deepEqual(DEFAULT_POLICY.denied, []);
  });

  it('refuses what is not an object', () => {
    for (const input of [null, undefined, 'read-only', 1, [], true]) assert.equal(error(input), 'policy must be an object');
  });

  it('refuses unknown fields, naming them', () => {
    assert.match(error({ mode: 'read-only', database: ['app'] }), /unknown field "database"/);
  });

  it('checks mode, reasonRequired and approvalRequired', () => {
    assert.match(error({ mode: 'readonly' }), /^policy\.mode must be "read-write" or "read-only"$/);
    assert.match(error({ mode: null }), /policy\.mode/);
    assert.match(error({ reasonRequired: 'yes' }), /^policy\.reasonRequired must be true or false$/);
    assert.match(error({ reasonRequired: 1 }), /policy\.reasonRequired/);
    assert.match(error({ approvalRequired: 'yes' }), /^policy\.approvalRequired must be true or false$/);
  });

  it('checks the types and lengths of both lists', () => {
    for (const field of ['databases', 'denied']) {
      assert.match(error({ [field]: 'app' }), new RegExp(`^policy\\.${field} must be an array of strings$`));
      assert.match(error({ [field]: ['a', 3] }), new RegExp(`^policy\\.${field}\\[1\\] must be a string$`));
      assert.match(error({ [field]: [''] }), new RegExp(`^policy\\.${field}\\[0\\] is empty$`));
      assert.match(error({ [field]: ['a'.repeat(121)] }), new RegExp(`^policy\\.${field}\\[0\\] is 121 characters long; at most 120`));
      assert.match(error({ [field]: Array.from({ length: 101 }, (_, i) => `a${i}`) }), new RegExp(`^policy\\.${field} has 101 entries`));
    }
    assert.equal(valid({ databases: ['a'.repeat(120)], denied: ['a'.repeat(120)] }).databases[0].length, 120);
    assert.equal(valid({ databases: Array.from({ length: 100 }, (_, i) => `a${i}`) }).databases.length, 100);
  });

  it("refuses MongoDB's forbidden database-name characters, but not the wildcards", () => {
    for (const bad of ['a/b', 'a\\b', 'a.b', 'a b', 'a"b', 'a$b', 'a\0b']) {
      assert.match(
        error({ databases: ['app', bad] }),
        /^policy\.databases\[1\] ".*" contains .*which a MongoDB database name cannot contain/,
      );
    }
    assert.match(error({ databases: ['a.b'] }), /contains "\."/);
    assert.match(error({ databases: ['a\0b'] }), /"a\\u0000b" contains "\\u0000"/);
    assert.deepEqual(valid({ databases: ['*', 'a?c', 'é-données', 'x*y?'] }).databases, ['*', 'a?c', 'é-données', 'x*y?']);
  });

  it('accepts denied command names and $operators only', () => {
    assert.deepEqual(valid({ denied: ['find', 'drop_2', '$where', '$graphLookup'] }).denied, ['find', 'drop_2', '$where', '$graphLookup']);
    for (const bad of ['drop database', '$', '$1x', '1drop', 'a-b', '$where.x', '$$ROOT', 'db.drop', '_x']) {
      assert.match(
        error({ denied: [bad] }),
        /^policy\.denied\[0\] ".*" is neither a command name \(like dropDatabase\) nor an operator \(like \$where\)$/,
      );
    }
  });
});
