/**
 * A control plane behind a certificate from a company's own CA (generated for the test): the CLI and the gateway
 * refuse it without the CA and with a wrong CA, each with a message saying what to give, and work with it
 * (`login --ca-file`, kept with the sign-in; `gateway start --ca-file`, kept with the credential); then a session
 * runs mongosh through the HTTPS relay, with both legs checked against that CA.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTestCerts, type TestCerts } from '../bed/certs';
import { type FerretDBServer, startFerretDB } from '../bed/ferretdb';
import { runMongosh } from '../bed/mongosh';
import { freePort } from '../bed/ports';
import { trackTempDir } from '../bed/processes';
import { buildCli, CliRunner, type CliUser, newCliUser, type RunningCli, removeBuild } from './cli-harness';

describe('a control plane with a certificate from a private CA', () => {
  let bundle: string;
  let cli: CliRunner;
  let certs: TestCerts;
  let otherCa: TestCerts;
  let ferret: FerretDBServer;
  let server: RunningCli;
  let gateway: RunningCli | undefined;
  let url: string;
  let adminEmail: string;
  let adminPassword: string;
  const admin: CliUser = newCliUser('ca-admin');
  const gatewayUser: CliUser = newCliUser('ca-gateway');

  before(async () => {
    bundle = await buildCli();
    cli = new CliRunner(bundle);
    const dir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-private-ca-')));
    mkdirSync(join(dir, 'right'));
    mkdirSync(join(dir, 'wrong'));
    certs = makeTestCerts(join(dir, 'right'));
    otherCa = makeTestCerts(join(dir, 'wrong'));
    ferret = await startFerretDB();
    const port = await freePort();
    server = cli.start(
      newCliUser('ca-server'),
      ['server', '--data-dir', join(dir, 'data'), '--port', String(port), '--host', '127.0.0.1'],
      {
        env: { PORTCULLIS_TLS_CERT_FILE: certs.verified.certFile, PORTCULLIS_TLS_KEY_FILE: certs.verified.keyFile },
      },
    );
    url = (await server.waitFor(/listening on (https:\/\/\S+)/))[1];
    const sign = await server.waitFor(/Email:\s+(\S+)\s*\n\s*Password:\s+(\S+)/);
    adminEmail = sign[1];
    adminPassword = sign[2];
  });

  after(async () => {
    await gateway?.stop();
    await server?.stop();
    await ferret?.stop();
    if (bundle) removeBuild(bundle);
  });

  const login = (extra: string[]) =>
    cli.run(admin, ['login', '--server', url, '--email', adminEmail, '--password-stdin', ...extra], { input: `${adminPassword}\n` });

  it('CLI: refused without the CA and with another CA, saying what to give; signed in with it, which is kept', async () => {
    const without = await login([]);
    assert.equal(without.code, 3, without.stdout + without.stderr);
    assert.match(
      without.stderr,
      /presented a certificate this machine does not trust \(\w+\); if your company runs its own CA, give its certificate with --ca-file/,
    );
    const wrong = await login(['--ca-file', otherCa.ca.certFile]);
    assert.equal(wrong.code, 3, wrong.stdout + wrong.stderr);
    assert.match(wrong.stderr, /presented a certificate that the given CA did not issue/);
    const notPem = join(admin.home, 'not-a-ca.txt');
    writeFileSync(notPem, 'hello\n');
    const bad = await login(['--ca-file', notPem]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /holds no PEM certificate/);

    const right = await login(['--ca-file', certs.ca.certFile]);
    assert.equal(right.code, 0, right.stdout + right.stderr);
    // Later commands use the CA kept with the sign-in; PORTCULLIS_CA_FILE overrides it.
    const whoami = await cli.run(admin, ['whoami']);
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.match(whoami.stdout, new RegExp(`Server:\\s+${url.replace(/[.]/g, '\\.')}`));
    const overridden = await cli.run(admin, ['whoami'], { env: { PORTCULLIS_CA_FILE: otherCa.ca.certFile } });
    assert.equal(overridden.code, 3, overridden.stdout + overridden.stderr);
  });

  it('gateway: refused without the CA; with --ca-file it enrolls, keeps the CA with its credential and comes online', async () => {
    const enroll = await cli.run(admin, ['gateway', 'enroll-token', '--name', 'gw-ca', '--output', 'json']);
    assert.equal(enroll.code, 0, enroll.stderr);
    const { token } = JSON.parse(enroll.stdout) as { token: string };
    writeFileSync(join(gatewayUser.home, 'enroll-token'), `${token}\n`, { mode: 0o600 });
    const args = ['gateway', 'start', '--server', url, '--token-file', 'enroll-token', '--name', 'gw-ca'];
    const refused = await cli.run(gatewayUser, args);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /presented a certificate this machine does not trust .*--ca-file/);
    gateway = cli.start(gatewayUser, [...args, '--ca-file', certs.ca.certFile]);
    await gateway.waitFor(/is running \(online\)/);
    // Restarted without the flag: the CA kept with the credential is used.
    await gateway.stop();
    gateway = cli.start(gatewayUser, ['gateway', 'start']);
    await gateway.waitFor(/trusting the CA in .*ca\.crt/);
    await gateway.waitFor(/is running \(online\)/);
  });

  it('a session through the HTTPS relay: mongosh runs, both legs trusting only the private CA', async () => {
    assert.equal(
      (await cli.run(admin, ['resource', 'create', '--name', 'db', '--gateway', 'gw-ca', '--connection-string', ferret.uri, '--no-tls']))
        .code,
      0,
    );
    const account = await cli.run(
      admin,
      ['account', 'create', '--resource', 'db', '--name', 'rw', '--username', ferret.username, '--password-stdin'],
      {
        input: `${ferret.password}\n`,
      },
    );
    assert.equal(account.code, 0, account.stderr);
    const result = await cli.run(
      admin,
      [
        'access',
        '--resource',
        'db',
        '--account',
        'rw',
        '--exec',
        'mongosh',
        '--',
        '--quiet',
        '--norc',
        '--eval',
        "db.getSiblingDB('t').c.insertOne({_id: 1}); print('n=' + db.getSiblingDB('t').c.countDocuments())",
      ],
      { timeoutMs: 90_000 },
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /n=1/);
    // The database is really there: the document is in FerretDB.
    const direct = await runMongosh(ferret.adminUri, "print('direct=' + db.getSiblingDB('t').c.countDocuments())");
    assert.match(direct.stdout, /direct=1/);
  });
});
