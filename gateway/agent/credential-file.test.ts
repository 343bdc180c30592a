import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readCredentialFile, writeCredentialFile } from './credential-file';

describe('gateway credential file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-credential-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const content = { server: 'https://cp.example', gatewayId: 'gw_1', credential: 'gwc_secret-value' };

  it('is written with mode 0600 and read back', () => {
    const path = join(dir, 'gateway.json');
    writeCredentialFile(path, content);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readCredentialFile(path), content);
    // Rewriting replaces it atomically and keeps the mode.
    writeCredentialFile(path, { ...content, credential: 'gwc_other' });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(readCredentialFile(path).credential, 'gwc_other');
  });

  it('refuses a file others can read, and says how to fix it without printing the credential', () => {
    const path = join(dir, 'open.json');
    writeFileSync(path, JSON.stringify(content));
    chmodSync(path, 0o644);
    assert.throws(
      () => readCredentialFile(path),
      (error: Error) => /chmod 600/.test(error.message) && !error.message.includes(content.credential),
    );
  });

  it('explains a missing or broken file', () => {
    assert.throws(() => readCredentialFile(join(dir, 'none.json')), /enroll the gateway first/);
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{"server": "x"}', { mode: 0o600 });
    assert.throws(() => readCredentialFile(path), /enroll the gateway again/);
    assert.ok(readFileSync(path, 'utf8').length > 0);
  });
});
