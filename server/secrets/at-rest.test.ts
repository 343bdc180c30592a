import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { newId } from '../store/ids';
import { openStore, SQLITE_FILE_NAME } from '../store/open-store';
import { decryptSecret, encryptSecret, fieldAad, newWrappedDataKey, unwrapDataKey } from './envelope';
import { loadRootKey } from './root-key';

const NOW = '2026-01-02T03:04:05.678Z';
const PASSWORD = 'Pa55word-that-must-never-be-on-disk-7f3c';
const CA_MARKER = 'MIIBexampleCAcertificateBodyThatMustStayEncrypted0123456789';
const CA_PEM = `-----BEGIN CERTIFICATE-----\n${CA_MARKER}\n-----END CERTIFICATE-----\n`;
const USERNAME = 'reporting-user-stored-in-clear';

/** Every byte SQLite keeps for the store: the database file, its write-ahead log and shared-memory index. */
function rawStoreBytes(dataDir: string): Buffer {
  const file = join(dataDir, SQLITE_FILE_NAME);
  return Buffer.concat([file, `${file}-wal`, `${file}-shm`].filter((f) => existsSync(f)).map((f) => readFileSync(f)));
}

function contains(haystack: Buffer, needle: string): boolean {
  return haystack.includes(Buffer.from(needle, 'utf8')) || haystack.includes(Buffer.from(needle, 'utf16le'));
}

describe('secrets at rest in a SQLite store', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-at-rest-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps an account password and a CA certificate out of the database file and its WAL, and reads them back', async () => {
    const rootKey = loadRootKey({ keyFile: join(dataDir, 'root.key') });
    const store = await openStore({ dataDir });
    const projectId = newId('prj_');
    const gatewayId = newId('gw_');
    const resourceId = newId('res_');
    const accountId = newId('acc_');
    const wrapped = newWrappedDataKey(rootKey);
    const dataKey = unwrapDataKey(rootKey, wrapped);
    try {
      await store.db.insertInto('projects').values({ id: projectId, name: 'p', data_key_wrapped: wrapped, created_at: NOW }).execute();
      await store.db
        .insertInto('gateways')
        .values({ id: gatewayId, project_id: projectId, name: 'g', credential_hash: 'h', created_at: NOW })
        .execute();
      await store.db
        .insertInto('resources')
        .values({
          id: resourceId,
          project_id: projectId,
          gateway_id: gatewayId,
          name: 'r',
          connection_string: 'mongodb://db.internal/',
          auth_database: 'admin',
          tls_enabled: 1,
          tls_reject_unauthorized: 1,
          ca_certificate_enc: encryptSecret(dataKey, CA_PEM, fieldAad(resourceId, 'ca_certificate')),
          created_at: NOW,
          updated_at: NOW,
        })
        .execute();
      await store.db
        .insertInto('accounts')
        .values({
          id: accountId,
          resource_id: resourceId,
          project_id: projectId,
          name: 'a',
          description: '',
          username: USERNAME,
          password_enc: encryptSecret(dataKey, PASSWORD, fieldAad(accountId, 'password')),
          mfa_required: 0,
          max_session_seconds: 3600,
          created_at: NOW,
          updated_at: NOW,
        })
        .execute();

      // While open, the new rows sit in the WAL.
      assert.ok(existsSync(join(dataDir, `${SQLITE_FILE_NAME}-wal`)));
      const whileOpen = rawStoreBytes(dataDir);
      // The search works: a column stored in clear is found.
      assert.ok(contains(whileOpen, USERNAME), 'the control value should be found in the raw bytes');
      assert.ok(!contains(whileOpen, PASSWORD), 'the password is in the raw database bytes');
      assert.ok(!contains(whileOpen, CA_MARKER), 'the CA certificate is in the raw database bytes');
    } finally {
      await store.close();
    }

    const afterClose = rawStoreBytes(dataDir);
    assert.ok(contains(afterClose, USERNAME));
    assert.ok(!contains(afterClose, PASSWORD));
    assert.ok(!contains(afterClose, CA_MARKER));
    // Nor is the root key or the data key in the store.
    assert.ok(!afterClose.includes(rootKey) && !contains(afterClose, rootKey.toString('base64')));
    assert.ok(!afterClose.includes(dataKey));

    // A new process (same root key file) reads the secrets back.
    const reopened = await openStore({ dataDir });
    try {
      const sameRoot = loadRootKey({ keyFile: join(dataDir, 'root.key') });
      const project = await reopened.db
        .selectFrom('projects')
        .select('data_key_wrapped')
        .where('id', '=', projectId)
        .executeTakeFirstOrThrow();
      const key = unwrapDataKey(sameRoot, project.data_key_wrapped);
      const account = await reopened.db.selectFrom('accounts').select('password_enc').where('id', '=', accountId).executeTakeFirstOrThrow();
      const resource = await reopened.db
        .selectFrom('resources')
        .select('ca_certificate_enc')
        .where('id', '=', resourceId)
        .executeTakeFirstOrThrow();
      assert.equal(decryptSecret(key, account.password_enc, fieldAad(accountId, 'password')), PASSWORD);
      assert.equal(decryptSecret(key, resource.ca_certificate_enc!, fieldAad(resourceId, 'ca_certificate')), CA_PEM);
    } finally {
      await reopened.close();
    }
  });
});
