import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type FerretDBServer, startFerretDB } from '../bed/ferretdb';
import { runMongosh } from '../bed/mongosh';
import { freePort } from '../bed/ports';
import { trackTempDir } from '../bed/processes';
import { buildCli, CliRunner, newCliUser, removeBuild } from './cli-harness';

// `portcullis start` (what `npm start` runs): control plane and gateway in one process, usable right away.
describe('portcullis start: a first look in one process', () => {
  const accountPassword = `Acct-${randomBytes(12).toString('base64url')}`;
  let bundle: string;
  let cli: CliRunner;
  let ferret: FerretDBServer;
  let dataDir: string;
  let port: number;
  let firstPassword: string;

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

  it('first start: prints the address, the one-time admin sign-in, a ready gateway and the next commands; access works', async () => {
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
      assert.match(out, new RegExp(`portcullis login --server ${url.replace(/[.]/g, '\\.')} --email ${sign[1]}`));
      assert.match(out, /portcullis resource create --name mydb --gateway local/);
      assert.match(out, /portcullis account create/);
      assert.match(out, /portcullis access --resource mydb --account readonly/);
      assert.equal(statSync(join(dataDir, 'gateway-credential.json')).mode & 0o777, 0o600);

      // Follow the printed steps.
      const admin = newCliUser('start-admin');
      assert.equal(
        (await cli.run(admin, ['login', '--server', url, '--email', sign[1], '--password-stdin'], { input: `${sign[2]}\n` })).code,
        0,
      );
      const resource = await cli.run(admin, [
        'resource',
        'create',
        '--name',
        'mydb',
        '--gateway',
        'local',
        '--connection-string',
        `mongodb://127.0.0.1:${ferret.port}`,
        '--no-tls',
      ]);
      assert.equal(resource.code, 0, resource.stderr);
      const account = await cli.run(
        admin,
        ['account', 'create', '--resource', 'mydb', '--name', 'readonly', '--username', 'app', '--password-stdin'],
        {
          input: `${accountPassword}\n`,
        },
      );
      assert.equal(account.code, 0, account.stderr);
      const access = cli.start(admin, ['access', '--resource', 'mydb', '--account', 'readonly']);
      const uri = (await access.waitFor(/URI:\s+(mongodb:\/\/\S+)/))[1];
      assert.match(access.stdout(), /Password:\s+not required/);
      const shell = await runMongosh(`${uri}?serverSelectionTimeoutMS=30000`, `print(db.getSiblingDB('admin').runCommand({ ping: 1 }).ok)`);
      assert.equal(shell.code, 0, shell.stderr + access.output() + start.output());
      assert.equal(shell.stdout.trim(), '1');
      access.child.kill('SIGINT');
      assert.equal(await access.exited(), 0, access.output());
      assert.match(access.stdout(), /Session ses_\S+ ended \(stopped\): /);
    } finally {
      start.child.kill('SIGINT');
      await start.exited();
    }
  });

  it('second start: no new password (says how to reset it), the same gateway comes back; server bootstrap resets it', async () => {
    const host = newCliUser('start-host2');
    const start = cli.start(host, ['start', '--data-dir', dataDir, '--port', String(port)]);
    try {
      await start.waitFor(/Press Ctrl\+C to stop/, 60_000);
      const out = start.stdout();
      assert.doesNotMatch(out, /Password:/);
      assert.match(out, new RegExp(`portcullis server bootstrap --data-dir ${dataDir.replace(/[.]/g, '\\.')}`));
      assert.match(out, /Gateway "local" is ready in this process/);
    } finally {
      start.child.kill('SIGINT');
      assert.equal(await start.exited(), 0, start.output());
    }

    const reset = await cli.run(host, ['server', 'bootstrap', '--data-dir', dataDir]);
    assert.equal(reset.code, 0, reset.stderr);
    const sign = reset.stdout.match(/Email:\s+(\S+)\s*\n\s*Password:\s+(\S+)/);
    assert.ok(sign, reset.stdout);
    assert.notEqual(sign[2], firstPassword);

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
});
