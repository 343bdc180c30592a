import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadRootKey } from './root-key';

describe('the root key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-root-key-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is generated on first start into a new file of mode 0600 and read back the same afterwards', () => {
    const keyFile = join(dir, 'nested', 'root.key');
    const key = loadRootKey({ keyFile });
    assert.equal(key.length, 32);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(readFileSync(keyFile, 'utf8').trim(), key.toString('base64'));
    assert.ok(loadRootKey({ keyFile }).equals(key));
  });

  it('comes from PORTCULLIS_ROOT_KEY when set, and then no file is created', () => {
    const key = randomBytes(32);
    const keyFile = join(dir, 'unused.key');
    assert.ok(loadRootKey({ env: key.toString('base64'), keyFile }).equals(key));
    assert.throws(() => statSync(keyFile), /ENOENT/);
    // An empty variable counts as unset.
    assert.equal(loadRootKey({ env: '', keyFile }).length, 32);
  });

  it('refuses a malformed key without repeating it', () => {
    const keyFile = join(dir, 'never.key');
    const short = randomBytes(16).toString('base64');
    assert.throws(
      () => loadRootKey({ env: short, keyFile }),
      (error: Error) => {
        assert.match(error.message, /PORTCULLIS_ROOT_KEY is 16 bytes, not 32.*openssl rand -base64 32/);
        assert.ok(!error.message.includes(short));
        return true;
      },
    );
    assert.throws(() => loadRootKey({ env: 'not base64 at all!', keyFile }), /not valid base64/);
    const badFile = join(dir, 'bad.key');
    writeFileSync(badFile, 'hello\n', { mode: 0o600 });
    assert.throws(() => loadRootKey({ keyFile: badFile }), /root key in the file .*bad\.key is not valid base64/);
  });

  it('refuses a key file that group or others can read, saying how to fix it', () => {
    const keyFile = join(dir, 'open.key');
    const key = randomBytes(32).toString('base64');
    writeFileSync(keyFile, `${key}\n`);
    chmodSync(keyFile, 0o644);
    assert.throws(
      () => loadRootKey({ keyFile }),
      (error: Error) => {
        assert.match(error.message, /mode 0644.*chmod 600/);
        assert.ok(!error.message.includes(key));
        return true;
      },
    );
    chmodSync(keyFile, 0o600);
    assert.equal(loadRootKey({ keyFile }).toString('base64'), key);
  });
});
