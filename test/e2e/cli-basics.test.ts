import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../bed/ports';
import { buildCli, CliRunner, newCliUser, removeBuild } from './cli-harness';

// The bundled command as a user runs it, without a server: usage errors, sign-in errors, exit codes.
describe('portcullis CLI: usage and errors without a server', () => {
  let bundle: string;
  let cli: CliRunner;
  before(async () => {
    bundle = await buildCli();
    cli = new CliRunner(bundle);
  });
  after(() => removeBuild(bundle));

  it('prints help with the exit codes', async () => {
    const result = await cli.run(newCliUser('help'), ['--help']);
    assert.equal(result.code, 0);
    for (const word of ['login', 'access', 'session', 'resource', 'account', 'gateway', 'server', 'start', 'Exit codes']) {
      assert.match(result.stdout, new RegExp(word));
    }
  });

  it('says to sign in when there is no sign-in (exit 2), without a stack trace', async () => {
    const result = await cli.run(newCliUser('nosignin'), ['resource', 'list']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /not signed in; run portcullis login --server URL/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });

  it('has no way to pass a password as an argument', async () => {
    const result = await cli.run(newCliUser('pwarg'), ['login', '--server', 'http://127.0.0.1:1', '--email', 'a@b.c', '--password', 'x']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /unknown option '--password'/);
  });

  it('refuses --password-stdin without --email, and a terminal-less password prompt, with what to do', async () => {
    const user = newCliUser('stdin');
    const noEmail = await cli.run(user, ['login', '--server', 'http://127.0.0.1:1', '--password-stdin'], { input: 'pw\n' });
    assert.equal(noEmail.code, 1);
    assert.match(noEmail.stderr, /also give --email/);
    const noTty = await cli.run(user, ['login', '--server', 'http://127.0.0.1:1', '--email', 'a@b.c']);
    assert.equal(noTty.code, 1);
    assert.match(noTty.stderr, /standard input is not a terminal.*--password-stdin/);
  });

  it('reports an unreachable server with its address (exit 3) and never echoes the password', async () => {
    const port = await freePort();
    const user = newCliUser('unreachable');
    const password = 'Unreachable-Secret-Pw-42';
    const result = await cli.run(user, ['login', '--server', `http://127.0.0.1:${port}`, '--email', 'a@b.c', '--password-stdin'], {
      input: `${password}\n`,
    });
    assert.equal(result.code, 3);
    assert.match(result.stderr, new RegExp(`could not reach the Portcullis server at http://127\\.0\\.0\\.1:${port}`));
    assert.match(result.stderr, /check the address and that the server is running/);
    assert.doesNotMatch(result.stdout + result.stderr, new RegExp(password));
    assert.equal(existsSync(join(user.configDir, 'token.json')), false);
  });

  it('rejects bad option values with the accepted forms', async () => {
    const user = newCliUser('badvalues');
    const duration = await cli.run(user, ['access', '--resource', 'r', '--account', 'a', '--duration', '5 parsecs']);
    assert.equal(duration.code, 1);
    assert.match(duration.stderr, /not a duration; use forms like 45m, 1h/);
    const state = await cli.run(user, ['session', 'list', '--state', 'sleeping']);
    assert.equal(state.code, 1);
    assert.match(state.stderr, /Allowed choices are starting, active, ended/);
    const missing = await cli.run(user, ['resource', 'create']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /required option '--name <name>'/);
  });
  it('refuses to serve plain HTTP off loopback unless --insecure-http says a proxy terminates TLS', async () => {
    const user = newCliUser('insecure');
    const dataDir = join(user.home, 'data');
    const refused = await cli.run(user, ['server', '--data-dir', dataDir, '--host', '0.0.0.0', '--port', String(await freePort())]);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(
      refused.stderr,
      /refusing to serve plain HTTP on 0\.0\.0\.0, which is not loopback.*PORTCULLIS_TLS_CERT_FILE.*--insecure-http/,
    );
    assert.equal(existsSync(join(dataDir, 'portcullis.db')), false, 'nothing was created');
    const allowed = cli.start(user, ['server', '--data-dir', dataDir, '--host', '0.0.0.0', '--port', '0', '--insecure-http']);
    try {
      await allowed.waitFor(/listening on http:\/\/\S+/);
    } finally {
      await allowed.stop();
    }
  });
});
