import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../server/store/open-store';
import { type FerretDBServer, startFerretDB } from '../bed/ferretdb';
import { runMongosh } from '../bed/mongosh';
import { freePort } from '../bed/ports';
import { trackTempDir } from '../bed/processes';
import { buildCli, CliRunner, newCliUser, removeBuild } from './cli-harness';

/** The commands under "Next, in another terminal:", as argument lists (without `portcullis` and comments). */
function printedSteps(out: string): string[][] {
  const block = out.split('Next, in another terminal:\n')[1]?.split('\n\n')[0];
  assert.ok(block, out);
  return block.split('\n').map((line) => {
    const words = line
      .replace(/\(asks for its password\)/, '')
      .trim()
      .split(/\s+/);
    assert.equal(words.shift(), 'portcullis', line);
    assert.ok(!/['"$\\]/.test(line), `a plain command: ${line}`);
    return words;
  });
}

// `portcullis start` (what `npm start` runs): control plane and gateway in one process, usable right away.
describe('portcullis start: a first look in one process', () => {
  const accountPassword = `Acct-${randomBytes(12).toString('base64url')}`;
  let bundle: string;
  let cli: CliRunner;
  let ferret: FerretDBServer;
  let dataDir: string;
  let port: number;
  let firstPassword: string;
  let resetPassword: string;
  // The printed placeholders, as this test's database and user.
  const fill = (args: string[]) =>
    args.map((a) => a.replace('mongodb://HOST:27017', `mongodb://127.0.0.1:${ferret.port}`).replace(/^DB_USER$/, 'app'));

  before(async () => {
    bundle = await buildCli();
    cli = new CliRunner(bundle);
    ferret = await startFerretDB();
    const created = await runMongosh(
      ferret.adminUri,
      `db.getSiblingDB('admin').createUser({ user: 'app', pwd: ${JSON.stringify(accountPassword)}, roles: [] }); print('created')`,
    );
    assert.equal(created.code, 0, created.stderr);
    dataDir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-start-')));
    port = await freePort();
  });
  after(async () => {
    await ferret?.stop();
    if (bundle) removeBuild(bundle);
  });

  it('a first start on a port in use fails, naming the port and PORTCULLIS_PORT, and leaves no admin behind', async () => {
    const host = newCliUser('start-busy');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const failed = await cli.run(host, ['start', '--data-dir', dataDir, '--port', String(port)]);
      assert.equal(failed.code, 1, failed.stdout + failed.stderr);
      assert.match(failed.stderr, new RegExp(`port ${port} is already in use .*--port or PORTCULLIS_PORT`));
      assert.doesNotMatch(failed.stdout + failed.stderr, /Password:|unexpected error/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    // Nothing a next start would take for a finished first start: no user, no gateway credential.
    const store = await openStore({ dataDir });
    try {
      assert.equal((await store.db.selectFrom('users').select('id').execute()).length, 0);
    } finally {
      await store.close();
    }
    assert.equal(existsSync(join(dataDir, 'gateway-credential.json')), false);
  });

  it('the next start is the first start: the one-time password, a ready gateway, and next steps that work as printed', async () => {
    const host = newCliUser('start-host');
    const start = cli.start(host, ['start', '--data-dir', dataDir, '--port', String(port)]);
    try {
      await start.waitFor(/Press Ctrl\+C to stop/, 60_000);
      const out = start.stdout();
      const url = `http://127.0.0.1:${port}`;
      assert.match(out, new RegExp(`Portcullis is running at ${url.replace(/[.]/g, '\\.')}`));
      const sign = out.match(/Email:\s+(\S+)\s*\n\s*Password:\s+(\S+)/);
      assert.ok(sign, out);
      firstPassword = sign[2];
      assert.match(out, /Gateway "local" is ready in this process/);
      for (const file of ['gateway-credential.json', 'root.key', 'portcullis.db', 'portcullis.db-wal', 'portcullis.db-shm']) {
        assert.equal((statSync(join(dataDir, file)).mode & 0o777).toString(8), '600', file);
      }

      // Run the printed steps as printed. Passwords go to standard input (--password-stdin), never into arguments;
      // the placeholders become this test's database.
      const steps = printedSteps(out);
      assert.deepEqual(
        steps.map((s) => s.slice(0, 2).join(' ')),
        ['login --server', 'resource create', 'account create', 'access --resource'],
      );
      assert.deepEqual(steps[0], ['login', '--server', url, '--email', sign[1]]);
      const admin = newCliUser('start-admin');
      const login = await cli.run(admin, [...steps[0], '--password-stdin'], { input: `${sign[2]}\n` });
      assert.equal(login.code, 0, login.stderr);
      const resource = await cli.run(admin, fill(steps[1]));
      assert.equal(resource.code, 0, resource.stderr);
      const account = await cli.run(admin, [...fill(steps[2]), '--password-stdin'], { input: `${accountPassword}\n` });
      assert.equal(account.code, 0, account.stderr);
      const access = await cli.run(
        admin,
        [...steps[3], '--', '--quiet', '--norc', '--eval', "print('ping=' + db.getSiblingDB('admin').runCommand({ ping: 1 }).ok)"],
        { timeoutMs: 90_000 },
      );
      assert.equal(access.code, 0, access.stdout + access.stderr + start.output());
      assert.match(access.stdout, /ping=1/);
      assert.match(access.stdout, /Session ses_\S+ ended \(stopped\): /);
    } finally {
      start.child.kill('SIGINT');
      assert.equal(await start.exited(), 0, start.output());
    }
  });

  it('second start: no new password (says how to reset it), the same gateway comes back; server bootstrap resets it', async () => {
    const host = newCliUser('start-host2');
    const start = cli.start(host, ['start', '--data-dir', dataDir, '--port', String(port)]);
    try {
      await start.waitFor(/Press Ctrl\+C to stop/, 60_000);
      const out = start.stdout();
      assert.doesNotMatch(out, /Password:/);
      assert.match(out, /Admin: admin@localhost, with the password shown on first start\./);
      assert.match(out, new RegExp(`portcullis server bootstrap --data-dir ${dataDir.replace(/[.]/g, '\\.')}`));
      assert.match(out, /Gateway "local" is ready in this process/);
      // A resource exists now: the steps say how to see it and use it, not to create it again.
      const steps = printedSteps(out);
      assert.deepEqual(steps, [
        ['login', '--server', `http://127.0.0.1:${port}`, '--email', 'admin@localhost'],
        ['resource', 'list'],
        ['access', '--resource', 'RESOURCE', '--account', 'ACCOUNT', '--exec', 'mongosh'],
      ]);
      const admin = newCliUser('start-admin-again');
      assert.equal((await cli.run(admin, [...steps[0], '--password-stdin'], { input: `${firstPassword}\n` })).code, 0);
      const list = await cli.run(admin, steps[1]);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /^mydb\s/m);
    } finally {
      start.child.kill('SIGINT');
      assert.equal(await start.exited(), 0, start.output());
    }

    const reset = await cli.run(host, ['server', 'bootstrap', '--data-dir', dataDir]);
    assert.equal(reset.code, 0, reset.stderr);
    const sign = reset.stdout.match(/Email:\s+(\S+)\s*\n\s*Password:\s+(\S+)/);
    assert.ok(sign, reset.stdout);
    assert.notEqual(sign[2], firstPassword);
    assert.match(reset.stdout, new RegExp(`portcullis login --server URL --email ${sign[1]}`));
    resetPassword = sign[2];

    const server = cli.start(host, ['server', '--data-dir', dataDir, '--port', String(port)]);
    try {
      await server.waitFor(/listening on/);
      const admin = newCliUser('start-admin2');
      const url = `http://127.0.0.1:${port}`;
      const old = await cli.run(admin, ['login', '--server', url, '--email', sign[1], '--password-stdin'], { input: `${firstPassword}\n` });
      assert.equal(old.code, 2, 'the first password no longer works');
      const fresh = await cli.run(admin, ['login', '--server', url, '--email', sign[1], '--password-stdin'], { input: `${sign[2]}\n` });
      assert.equal(fresh.code, 0, fresh.stderr);
    } finally {
      await server.stop();
    }
  });

  it('a start without the gateway credential file sets the local gateway up again: the same gateway, its resources work', async () => {
    const credentialFile = join(dataDir, 'gateway-credential.json');
    const { gatewayId } = JSON.parse(readFileSync(credentialFile, 'utf8'));
    rmSync(credentialFile);
    const host = newCliUser('start-host3');
    const start = cli.start(host, ['start', '--data-dir', dataDir, '--port', String(port)]);
    try {
      await start.waitFor(/Press Ctrl\+C to stop/, 60_000);
      assert.match(start.output(), /Enrolling the local gateway/);
      assert.match(start.stdout(), /Gateway "local" is ready in this process/);
      assert.equal(JSON.parse(readFileSync(credentialFile, 'utf8')).gatewayId, gatewayId);
      assert.equal((statSync(credentialFile).mode & 0o777).toString(8), '600');

      const admin = newCliUser('start-admin3');
      const url = `http://127.0.0.1:${port}`;
      const login = await cli.run(admin, ['login', '--server', url, '--email', 'admin@localhost', '--password-stdin'], {
        input: `${resetPassword}\n`,
      });
      assert.equal(login.code, 0, login.stderr);
      const gateways = await cli.run(admin, ['gateway', 'list', '--output', 'json']);
      assert.deepEqual(
        (JSON.parse(gateways.stdout) as Array<{ id: string; name: string; online: boolean }>).map((g) => [g.id, g.name, g.online]),
        [[gatewayId, 'local', true]],
      );
      const access = await cli.run(
        admin,
        [
          'access',
          '--resource',
          'mydb',
          '--account',
          'readonly',
          '--exec',
          'mongosh',
          '--',
          '--quiet',
          '--norc',
          '--eval',
          "print('ping=' + db.getSiblingDB('admin').runCommand({ ping: 1 }).ok)",
        ],
        { timeoutMs: 90_000 },
      );
      assert.equal(access.code, 0, access.stdout + access.stderr + start.output());
      assert.match(access.stdout, /ping=1/);
    } finally {
      start.child.kill('SIGINT');
      assert.equal(await start.exited(), 0, start.output());
    }
  });
});
