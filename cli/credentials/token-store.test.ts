import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { readConfig } from './config-file';
import { keychainSet } from './keychain';
import { readPrivateFile } from './private-file';
import { forgetToken, loadToken, saveToken, tokenFilePath } from './token-store';

const TOKEN = 'pcu_test-token-value-0123456789';

describe('token storage without a keychain (what runs on this Linux machine)', () => {
  let dir: string;
  const savedEnv = { ...process.env };
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'portcullis-cli-cred-')), 'config');
    delete process.env.DBUS_SESSION_BUS_ADDRESS;
    delete process.env.PORTCULLIS_KEYCHAIN;
  });
  afterEach(() => {
    process.env = { ...savedEnv };
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it('falls back to token.json with mode 0600 in a 0700 folder, says so, and keeps the token out of config.json', () => {
    const result = saveToken(dir, { server: 'http://127.0.0.1:9', token: TOKEN }, { email: 'a@example.com' });
    assert.equal(result.store, 'file');
    assert.match(result.where, /token\.json/);
    assert.ok(result.keychainProblem, 'says why the keychain was not used');
    const file = tokenFilePath(dir);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.match(readFileSync(file, 'utf8'), new RegExp(TOKEN));
    const configText = readFileSync(join(dir, 'config.json'), 'utf8');
    assert.doesNotMatch(configText, new RegExp(TOKEN));
    assert.deepEqual(readConfig(dir), { server: 'http://127.0.0.1:9', email: 'a@example.com', tokenStore: 'file' });
    assert.deepEqual(loadToken(dir), { server: 'http://127.0.0.1:9', token: TOKEN });
  });

  it('forgets the token on logout but remembers the server', () => {
    saveToken(dir, { server: 'http://127.0.0.1:9', token: TOKEN });
    forgetToken(dir);
    assert.equal(existsSync(tokenFilePath(dir)), false);
    assert.equal(loadToken(dir), undefined);
    assert.equal(readConfig(dir).server, 'http://127.0.0.1:9');
  });

  it('refuses a token file that others can read, saying how to fix it', () => {
    saveToken(dir, { server: 'http://127.0.0.1:9', token: TOKEN });
    chmodSync(tokenFilePath(dir), 0o644);
    assert.throws(() => loadToken(dir), /can be read by other users.*chmod 600/);
    assert.throws(
      () => readPrivateFile(tokenFilePath(dir)),
      (error: Error) => !error.message.includes(TOKEN),
    );
  });

  it('ignores a token saved for another server', () => {
    saveToken(dir, { server: 'http://127.0.0.1:9', token: TOKEN });
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    config.server = 'http://other.example:1';
    require('node:fs').writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    assert.equal(loadToken(dir), undefined);
  });
});

describe('the keychain call cannot hang', () => {
  let bus: Server;
  let busDir: string;
  const savedEnv = { ...process.env };
  beforeEach(async () => {
    busDir = mkdtempSync(join(tmpdir(), 'portcullis-bus-'));
    // A socket that accepts and never answers: what a stuck Secret Service looks like to the client.
    bus = createServer(() => undefined);
    await new Promise<void>((resolve) => bus.listen(join(busDir, 'bus'), resolve));
  });
  afterEach(async () => {
    process.env = { ...savedEnv };
    await new Promise<void>((resolve) => bus.close(() => resolve()));
    rmSync(busDir, { recursive: true, force: true });
  });

  it('gives up after its time limit and the token goes to the file', () => {
    process.env.DBUS_SESSION_BUS_ADDRESS = `unix:path=${join(busDir, 'bus')}`;
    process.env.PORTCULLIS_KEYCHAIN_TIMEOUT_MS = '1500';
    const result = keychainSet('http://127.0.0.1:9', TOKEN);
    assert.equal(result.ok, false);
    if (!result.ok) assert.doesNotMatch(result.reason, new RegExp(TOKEN));

    const dir = join(busDir, 'config');
    const saved = saveToken(dir, { server: 'http://127.0.0.1:9', token: TOKEN });
    assert.equal(saved.store, 'file');
    assert.equal(statSync(tokenFilePath(dir)).mode & 0o777, 0o600);
  });
});
