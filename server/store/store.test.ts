import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { captureOutput, spawnTracked } from '../../test/bed/processes';
import { isForeignKeyViolation, isUniqueViolation } from './errors';
import { fromFlag, toFlag } from './flags';
import { newId } from './ids';
import { appliedMigrations, migrateToLatest } from './migrate';
import { STORE_MIGRATIONS } from './migrations/migration-list';
import { openStore, SQLITE_FILE_NAME } from './open-store';
import type {
  Database,
  NewAccountRow,
  NewApiTokenRow,
  NewAuditEventRow,
  NewGatewayEnrollmentTokenRow,
  NewGatewayRow,
  NewProjectRow,
  NewResourceRow,
  NewSessionRow,
  NewUserRow,
} from './schema';
import { describeOnBothDialects, incrementCounterFor } from './store-test-harness';

// The other process (`node --import tsx -e`): opens the store, says ready, increments for a second, says how many.
const INCREMENTER = `
const { openStore } = require(${JSON.stringify(join(__dirname, 'open-store.ts'))});
const { incrementCounterFor } = require(${JSON.stringify(join(__dirname, 'store-test-harness.ts'))});
(async () => {
  const store = await openStore(JSON.parse(process.env.STORE_OPTIONS));
  process.stdout.write('ready\\n');
  const done = await incrementCounterFor(store, process.env.COUNTER_ID, 1000);
  await store.close();
  process.stdout.write('done ' + done + '\\n');
})().catch((error) => { console.error(error); process.exit(1); });
`;

const T0 = '2026-01-02T03:04:05.678Z';
const T1 = '2026-01-02T04:04:05.678Z';

function userRow(overrides: Partial<NewUserRow> = {}): NewUserRow {
  return {
    id: newId('usr_'),
    email: `${newId('usr_')}@example.com`,
    name: 'Ada Lovelace',
    password_hash: '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA',
    created_at: T0,
    updated_at: T0,
    ...overrides,
  };
}

function projectRow(overrides: Partial<NewProjectRow> = {}): NewProjectRow {
  return { id: newId('prj_'), name: 'Payments', data_key_wrapped: 'v1.a.b.c', mfa_enforced_method: null, created_at: T0, ...overrides };
}

function gatewayRow(projectId: string, overrides: Partial<NewGatewayRow> = {}): NewGatewayRow {
  return {
    id: newId('gw_'),
    project_id: projectId,
    name: 'eu-west',
    credential_hash: newId('gw_'),
    created_at: T0,
    last_seen_at: null,
    version: null,
    tunnel_certificate: null,
    tunnel_fingerprint: null,
    ...overrides,
  };
}

function resourceRow(projectId: string, gatewayId: string, overrides: Partial<NewResourceRow> = {}): NewResourceRow {
  return {
    id: newId('res_'),
    project_id: projectId,
    gateway_id: gatewayId,
    name: 'orders-db',
    connection_string: 'mongodb://db.internal:27017/',
    auth_database: 'admin',
    tls_enabled: 1,
    tls_reject_unauthorized: 0,
    ca_certificate_enc: null,
    created_at: T0,
    updated_at: T0,
    ...overrides,
  };
}

function accountRow(resourceId: string, projectId: string, overrides: Partial<NewAccountRow> = {}): NewAccountRow {
  return {
    id: newId('acc_'),
    resource_id: resourceId,
    project_id: projectId,
    name: 'read-only',
    description: '',
    username: 'reporter',
    password_enc: 'v1.x.y.z',
    mfa_required: 0,
    max_session_seconds: 3600,
    policy: null,
    created_at: T0,
    updated_at: T0,
    ...overrides,
  };
}

/** A user, a project they administer, a gateway, a resource and an account on it. */
async function seed(db: Kysely<Database>) {
  const user = userRow();
  const project = projectRow();
  const gateway = gatewayRow(project.id);
  const resource = resourceRow(project.id, gateway.id);
  const account = accountRow(resource.id, project.id);
  await db.insertInto('users').values(user).execute();
  await db.insertInto('projects').values(project).execute();
  await db.insertInto('project_members').values({ project_id: project.id, user_id: user.id, role: 'admin', created_at: T0 }).execute();
  await db.insertInto('gateways').values(gateway).execute();
  await db.insertInto('resources').values(resource).execute();
  await db.insertInto('accounts').values(account).execute();
  return { user, project, gateway, resource, account };
}

async function expectError(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('the write was expected to be refused');
}

async function count(db: Kysely<Database>, table: keyof Database): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return row.n;
}

describeOnBothDialects('store', ({ dialect, freshStore }) => {
  it('applies every migration to an empty database, and a second open is a no-op that keeps the data', async () => {
    const { store, options } = await freshStore();
    assert.equal(store.dialect, dialect);
    assert.deepEqual(await appliedMigrations(store.db, dialect), Object.keys(STORE_MIGRATIONS).sort());
    const tables = (await store.db.introspection.getTables()).map((t) => t.name);
    const expected: Array<keyof Database> = [
      'users',
      'api_tokens',
      'projects',
      'project_members',
      'gateway_enrollment_tokens',
      'gateways',
      'resources',
      'accounts',
      'sessions',
      'session_log_events',
      'audit_events',
    ];
    for (const table of expected) assert.ok(tables.includes(table), `table ${table} is missing`);

    const user = userRow();
    await store.db.insertInto('users').values(user).execute();
    assert.deepEqual(await migrateToLatest(store.db, dialect), [], 'an up-to-date store applies nothing');
    await store.close();
    await store.close(); // idempotent

    const again = await openStore(options);
    try {
      assert.deepEqual(await appliedMigrations(again.db, dialect), Object.keys(STORE_MIGRATIONS).sort());
      const stored = await again.db.selectFrom('users').select('email').where('id', '=', user.id).executeTakeFirst();
      assert.equal(stored?.email, user.email);
    } finally {
      await again.close();
    }
  });

  it('round-trips every table with the same JavaScript types: flags 0/1, integers, nulls, JSON text', async () => {
    const { store } = await freshStore();
    const db = store.db;
    const { user, project, gateway, resource, account } = await seed(db);

    assert.deepEqual(await db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirst(), user);
    assert.deepEqual(await db.selectFrom('projects').selectAll().where('id', '=', project.id).executeTakeFirst(), project);
    assert.deepEqual(await db.selectFrom('project_members').selectAll().executeTakeFirst(), {
      project_id: project.id,
      user_id: user.id,
      role: 'admin',
      created_at: T0,
    });
    // `connected` was left to its default.
    assert.deepEqual(await db.selectFrom('gateways').selectAll().where('id', '=', gateway.id).executeTakeFirst(), {
      ...gateway,
      connected: 0,
    });
    assert.deepEqual(await db.selectFrom('resources').selectAll().where('id', '=', resource.id).executeTakeFirst(), resource);
    assert.deepEqual(await db.selectFrom('accounts').selectAll().where('id', '=', account.id).executeTakeFirst(), account);

    const mfaProject = projectRow({ mfa_enforced_method: 'totp' });
    await db.insertInto('projects').values(mfaProject).execute();
    assert.equal(
      (await db.selectFrom('projects').select('mfa_enforced_method').where('id', '=', mfaProject.id).executeTakeFirst())
        ?.mfa_enforced_method,
      'totp',
    );

    await db
      .updateTable('gateways')
      .set({ connected: toFlag(true), last_seen_at: T1, version: '0.1.0' })
      .where('id', '=', gateway.id)
      .execute();
    const updated = await db
      .selectFrom('gateways')
      .select(['connected', 'last_seen_at', 'version'])
      .where('id', '=', gateway.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(updated, { connected: 1, last_seen_at: T1, version: '0.1.0' });
    assert.equal(typeof updated.connected, 'number');
    assert.equal(fromFlag(updated.connected), true);

    const token: NewApiTokenRow = {
      id: newId('tok_'),
      user_id: user.id,
      token_hash: 'a'.repeat(64),
      created_at: T0,
      expires_at: T1,
      revoked_at: null,
      last_used_at: T0,
      user_agent: 'portcullis-cli/0.1.0',
      idp_mfa_at: T0,
    };
    await db.insertInto('api_tokens').values(token).execute();
    assert.deepEqual(await db.selectFrom('api_tokens').selectAll().executeTakeFirst(), token);

    const enrollment: NewGatewayEnrollmentTokenRow = {
      id: newId('enr_'),
      project_id: project.id,
      token_hash: 'b'.repeat(64),
      name: null,
      created_by: user.id,
      created_at: T0,
      expires_at: T1,
      used_at: null,
      gateway_id: null,
    };
    await db.insertInto('gateway_enrollment_tokens').values(enrollment).execute();
    assert.deepEqual(await db.selectFrom('gateway_enrollment_tokens').selectAll().executeTakeFirst(), enrollment);

    const session: NewSessionRow = {
      id: newId('ses_'),
      project_id: project.id,
      user_id: user.id,
      user_email: user.email,
      resource_id: resource.id,
      resource_name: resource.name,
      account_id: account.id,
      account_name: account.name,
      gateway_id: gateway.id,
      state: 'active',
      created_at: T0,
      started_at: T0,
      ended_at: null,
      expires_at: T1,
      last_activity_at: T0,
      end_reason: null,
      ended_by: null,
      client_address: '127.0.0.1',
      client_agent: null,
      mfa_method: 'email',
      reason: 'INC-42: stuck orders',
    };
    await db.insertInto('sessions').values(session).execute();
    await db
      .updateTable('sessions')
      .set((eb) => ({ commands: eb('commands', '+', 3), connections: eb('connections', '+', 1) }))
      .where('id', '=', session.id)
      .execute();
    assert.deepEqual(await db.selectFrom('sessions').selectAll().executeTakeFirst(), {
      ...session,
      connections: 1,
      commands: 3,
      flag_count: 0,
      high_flag_count: 0,
      access_request_id: null,
      tunnel_client_fingerprint: null,
      tunnel_gateway_fingerprint: null,
    });

    const details = { name: 'orders-db', changed: ['tlsEnabled'], nested: { n: 1, none: null } };
    const audit: NewAuditEventRow = {
      id: newId('aud_'),
      project_id: null,
      actor_user_id: null,
      actor_email: null,
      action: 'resource.update',
      target_type: 'resource',
      target_id: null,
      details: JSON.stringify(details),
      time: T0,
    };
    await db.insertInto('audit_events').values(audit).execute();
    const storedAudit = await db.selectFrom('audit_events').selectAll().executeTakeFirstOrThrow();
    assert.deepEqual(storedAudit, audit);
    assert.deepEqual(JSON.parse(storedAudit.details), details);

    // count(*) is int8 on PostgreSQL: the pool parses it to a number, as SQLite returns one.
    assert.equal(await count(db, 'accounts'), 1);
  });

  it('keeps a flag to 0 or 1', async () => {
    const { store } = await freshStore();
    const { project, gateway } = await seed(store.db);
    const error = await expectError(
      store.db
        .insertInto('resources')
        .values(resourceRow(project.id, gateway.id, { name: 'other', tls_enabled: 2 as 0 }))
        .execute(),
    );
    assert.ok(!isUniqueViolation(error));
    assert.equal(await count(store.db, 'resources'), 1);
  });

  it('refuses duplicates with an error isUniqueViolation recognises: email, resource name per project, account name per resource, token hash', async () => {
    const { store } = await freshStore();
    const db = store.db;
    const { user, project, gateway, resource, account } = await seed(db);

    assert.ok(
      isUniqueViolation(
        await expectError(
          db
            .insertInto('users')
            .values(userRow({ email: user.email }))
            .execute(),
        ),
      ),
    );
    assert.ok(
      isUniqueViolation(
        await expectError(
          db
            .insertInto('users')
            .values(userRow({ id: user.id }))
            .execute(),
        ),
      ),
    );
    assert.ok(
      isUniqueViolation(
        await expectError(
          db
            .insertInto('resources')
            .values(resourceRow(project.id, gateway.id, { name: resource.name }))
            .execute(),
        ),
      ),
    );
    assert.ok(
      isUniqueViolation(
        await expectError(
          db
            .insertInto('accounts')
            .values(accountRow(resource.id, project.id, { name: account.name }))
            .execute(),
        ),
      ),
    );
    assert.ok(
      isUniqueViolation(
        await expectError(
          db
            .insertInto('gateways')
            .values(gatewayRow(project.id, { credential_hash: gateway.credential_hash }))
            .execute(),
        ),
      ),
    );
    assert.ok(
      isUniqueViolation(
        await expectError(
          db.insertInto('project_members').values({ project_id: project.id, user_id: user.id, role: 'member', created_at: T1 }).execute(),
        ),
      ),
    );
    // A rename onto a taken name is refused too.
    const second = resourceRow(project.id, gateway.id, { name: 'second' });
    await db.insertInto('resources').values(second).execute();
    assert.ok(
      isUniqueViolation(await expectError(db.updateTable('resources').set({ name: resource.name }).where('id', '=', second.id).execute())),
    );

    // The same names are fine in another scope.
    const otherProject = projectRow();
    await db.insertInto('projects').values(otherProject).execute();
    const otherGateway = gatewayRow(otherProject.id);
    await db.insertInto('gateways').values(otherGateway).execute();
    await db
      .insertInto('resources')
      .values(resourceRow(otherProject.id, otherGateway.id, { name: resource.name }))
      .execute();
    await db
      .insertInto('accounts')
      .values(accountRow(second.id, project.id, { name: account.name }))
      .execute();

    // Other errors are not mistaken for unique violations.
    const missingParent = await expectError(db.insertInto('accounts').values(accountRow('res_missing', project.id)).execute());
    assert.equal(isUniqueViolation(missingParent), false);
    assert.equal(isForeignKeyViolation(missingParent), true);
    assert.equal(isUniqueViolation(new Error('boom')), false);
    assert.equal(isUniqueViolation(undefined), false);
  });

  it('cascades deletes as specified, restricts deleting a gateway that has resources, and keeps sessions', async () => {
    const { store } = await freshStore();
    const db = store.db;
    const { user, project, gateway, resource, account } = await seed(db);
    await db
      .insertInto('api_tokens')
      .values({ id: newId('tok_'), user_id: user.id, token_hash: 'c'.repeat(64), created_at: T0, expires_at: T1 })
      .execute();
    await db
      .insertInto('gateway_enrollment_tokens')
      .values({
        id: newId('enr_'),
        project_id: project.id,
        token_hash: 'd'.repeat(64),
        created_by: user.id,
        created_at: T0,
        expires_at: T1,
      })
      .execute();
    await db
      .insertInto('sessions')
      .values({
        id: newId('ses_'),
        project_id: project.id,
        user_id: user.id,
        user_email: user.email,
        resource_id: resource.id,
        resource_name: resource.name,
        account_id: account.id,
        account_name: account.name,
        gateway_id: gateway.id,
        state: 'ended',
        created_at: T0,
        expires_at: T1,
        last_activity_at: T0,
      })
      .execute();

    // A gateway that serves a resource cannot go.
    const restricted = await expectError(db.deleteFrom('gateways').where('id', '=', gateway.id).execute());
    assert.ok(isForeignKeyViolation(restricted));
    assert.equal(await count(db, 'gateways'), 1);

    // Deleting a resource takes its accounts.
    const spare = resourceRow(project.id, gateway.id, { name: 'spare' });
    await db.insertInto('resources').values(spare).execute();
    await db.insertInto('accounts').values(accountRow(spare.id, project.id)).execute();
    await db.deleteFrom('resources').where('id', '=', spare.id).execute();
    assert.equal(await count(db, 'accounts'), 1);

    // Deleting the user takes their tokens and memberships.
    await db.deleteFrom('users').where('id', '=', user.id).execute();
    assert.equal(await count(db, 'api_tokens'), 0);
    assert.equal(await count(db, 'project_members'), 0);

    // Deleting the project takes everything under it; the session record stays.
    await db.deleteFrom('projects').where('id', '=', project.id).execute();
    for (const table of ['gateway_enrollment_tokens', 'gateways', 'resources', 'accounts'] as const) {
      assert.equal(await count(db, table), 0, `${table} should be empty`);
    }
    assert.equal(await count(db, 'sessions'), 1);
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    const { store } = await freshStore();
    const kept = userRow();
    await store.transaction(async (trx) => {
      await trx.insertInto('users').values(kept).execute();
    });
    const lost = userRow();
    await assert.rejects(
      store.transaction(async (trx) => {
        await trx.insertInto('users').values(lost).execute();
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    const ids = (await store.db.selectFrom('users').select('id').execute()).map((r) => r.id);
    assert.deepEqual(ids, [kept.id]);
  });

  it('a locked transaction makes read-then-write atomic, here and against another process on the same database', async () => {
    const { store, options } = await freshStore();
    const counter = userRow({ name: '0' });
    await store.db.insertInto('users').values(counter).execute();
    // Another control plane: a process of its own with its own connection, incrementing the same counter.
    const other = spawnTracked(process.execPath, ['--import', 'tsx', '-e', INCREMENTER], {
      env: { ...process.env, STORE_OPTIONS: JSON.stringify(options), COUNTER_ID: counter.id },
    });
    const output = captureOutput(other);
    const exited = new Promise<number | null>((resolve) => other.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      other.stdout?.on('data', () => output().includes('ready') && resolve());
      other.once('exit', () => reject(new Error(`the other process ended early: ${output()}`)));
    });
    const mine = await incrementCounterFor(store, counter.id, 1000);
    assert.equal(await exited, 0, output());
    const theirs = Number(/done (\d+)/.exec(output())?.[1]);
    assert.ok(mine > 0 && theirs > 0, `both processes incremented (${mine} and ${theirs})`);
    const final = await store.db.selectFrom('users').select('name').where('id', '=', counter.id).executeTakeFirstOrThrow();
    assert.equal(Number(final.name), mine + theirs, 'no increment was lost');

    await assert.rejects(
      store.lockedTransaction(['counter'], async (trx) => {
        await trx.updateTable('users').set({ name: 'lost' }).where('id', '=', counter.id).execute();
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    assert.equal(
      (await store.db.selectFrom('users').select('name').where('id', '=', counter.id).executeTakeFirstOrThrow()).name,
      final.name,
    );
  });

  it('exclusively: one process runs a sweep at a time and the others skip it; the lock is free again afterwards', async () => {
    const { store, options } = await freshStore();
    // Another control plane: a store of its own (its own pool and connections) on the same database.
    const other = await openStore(options);
    try {
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let entered: () => void = () => {};
      const inside = new Promise<void>((resolve) => {
        entered = resolve;
      });
      const first = store.exclusively('sweep', async () => {
        entered();
        await held;
        return 'first';
      });
      await inside;
      const second = await other.exclusively('sweep', async () => 'second');
      const unrelated = await other.exclusively('another sweep', async () => 'unrelated');
      release();
      assert.equal(await first, 'first');
      assert.equal(unrelated, 'unrelated', 'another name is not held');
      if (dialect === 'postgres') assert.equal(second, undefined, 'the second process skipped while the first held the lock');
      // SQLite has one process: nothing to skip.
      else assert.equal(second, 'second');
      assert.equal(await other.exclusively('sweep', async () => 'again'), 'again', 'released after the first run');
      await assert.rejects(
        store.exclusively('sweep', async () => Promise.reject(new Error('sweep failed'))),
        /sweep failed/,
      );
      assert.equal(await other.exclusively('sweep', async () => 'after a failure'), 'after a failure', 'released after a throw');
    } finally {
      await other.close();
    }
  });

  it('leaves room for later migrations: their names sort after 0001', () => {
    const names = Object.keys(STORE_MIGRATIONS);
    assert.deepEqual(names, [...names].sort());
    for (const name of names) assert.match(name, /^\d{4}-[a-z0-9-]+$/);
  });
});

describe('SQLite files', () => {
  it('the database, its WAL and its shared-memory file are readable by the owner only, whatever the umask; older files are narrowed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-store-mode-'));
    // The usual umask: without the store's care, SQLite would create the files 0644.
    const umask = process.umask(0o022);
    try {
      const file = join(dataDir, SQLITE_FILE_NAME);
      const modes = () =>
        [file, `${file}-wal`, `${file}-shm`].map((f) => `${f.slice(dataDir.length + 1)} ${(statSync(f).mode & 0o777).toString(8)}`);
      const store = await openStore({ dataDir });
      await store.db.insertInto('users').values(userRow()).execute();
      assert.deepEqual(modes(), ['portcullis.db 600', 'portcullis.db-wal 600', 'portcullis.db-shm 600']);

      // As an earlier version left them (the store still open, so the WAL and shared memory exist).
      for (const f of [file, `${file}-wal`, `${file}-shm`]) chmodSync(f, 0o644);
      const again = await openStore({ dataDir });
      await again.db.insertInto('users').values(userRow()).execute();
      assert.deepEqual(modes(), ['portcullis.db 600', 'portcullis.db-wal 600', 'portcullis.db-shm 600']);
      await again.close();
      await store.close();
    } finally {
      process.umask(umask);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('openStore refusals', () => {
  it('needs a URL or a data folder, and only a PostgreSQL URL', async () => {
    await assert.rejects(openStore({}), /needs a PostgreSQL URL \(url\) or a folder/);
    const error = await expectError(openStore({ url: 'mysql://root:hunter2-secret@localhost/db' }));
    assert.match(String(error), /must start with postgres:\/\//);
    assert.doesNotMatch(String(error), /hunter2-secret/);
  });
});
