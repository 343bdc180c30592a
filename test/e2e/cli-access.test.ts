import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as OTPAuth from 'otpauth';
import type { GatewayDto, ResourceDto, SessionDto } from '../../protocol/api';
import type { StoredSessionLogEvent } from '../../protocol/session-log';
import { ApiClient } from '../../proxy-core/api-client';
import { type FerretDBServer, startFerretDB } from '../bed/ferretdb';
import { runMongosh } from '../bed/mongosh';
import { freePort } from '../bed/ports';
import { trackTempDir } from '../bed/processes';
import { buildCli, CliRunner, type CliUser, commandLineOf, filesUnder, newCliUser, type RunningCli, removeBuild } from './cli-harness';

// Everything real and in separate processes: FerretDB with SCRAM, `portcullis server` on SQLite,
// `portcullis gateway start`, the CLI as admin and as a member, mongosh on the printed address.
describe('portcullis CLI end to end: admin sets up, a member gets access, mongosh runs, the session is recorded', () => {
  const accountPassword = `Acct-${randomBytes(12).toString('base64url')}`;
  const memberPassword = `Member-${randomBytes(12).toString('base64url')}`;
  const memberEmail = 'member@example.com';
  let bundle: string;
  let cli: CliRunner;
  let ferret: FerretDBServer;
  let server: RunningCli;
  let gateway: RunningCli;
  let url: string;
  let adminEmail: string;
  let adminPassword: string;
  let admin: CliUser;
  let member: CliUser;
  let gatewayUser: CliUser;
  let serverUser: CliUser;
  const commandLines: string[] = [];
  let sessionId: string;

  const sampleCommandLines = (...running: RunningCli[]) => {
    for (const r of running) if (r.child.pid) commandLines.push(commandLineOf(r.child.pid));
  };

  before(async () => {
    bundle = await buildCli();
    cli = new CliRunner(bundle);
    ferret = await startFerretDB();
    const created = await runMongosh(
      ferret.adminUri,
      `db.getSiblingDB('admin').createUser({ user: 'app', pwd: ${JSON.stringify(accountPassword)}, roles: [] }); print('created')`,
    );
    assert.equal(created.code, 0, created.stderr);

    serverUser = newCliUser('server');
    admin = newCliUser('admin');
    member = newCliUser('member');
    gatewayUser = newCliUser('gateway');
    const dataDir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-cli-data-')));
    const port = await freePort();
    server = cli.start(serverUser, ['server', '--data-dir', dataDir, '--port', String(port), '--host', '127.0.0.1']);
    url = (await server.waitFor(/listening on (http:\/\/\S+)/))[1];
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

  it('admin: signs in with the password on stdin, the token lands in a 0600 file, and the CLI says so', async () => {
    const login = await cli.run(admin, ['login', '--server', url, '--email', adminEmail, '--password-stdin'], {
      input: `${adminPassword}\n`,
    });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, new RegExp(`Signed in to ${url.replace(/[.]/g, '\\.')} as ${adminEmail}`));
    assert.match(login.stdout, /token\.json \(readable only by you\), because no OS keychain is available/);
    const token = filesUnder(admin.configDir).find((f) => f.path.endsWith('token.json'));
    assert.ok(token);
    assert.equal(token.mode, 0o600);
    const whoami = await cli.run(admin, ['whoami', '--output', 'json']);
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.equal(JSON.parse(whoami.stdout).user.email, adminEmail);
  });

  it('admin: creates an enrollment token; the printed command enrolls and runs a gateway that comes online', async () => {
    const enroll = await cli.run(admin, ['gateway', 'enroll-token', '--name', 'gw-e2e', '--output', 'json']);
    assert.equal(enroll.code, 0, enroll.stderr);
    const { token, command } = JSON.parse(enroll.stdout) as { token: string; command: string };
    assert.equal(command, `portcullis gateway start --server ${url} --token-file enroll-token --name gw-e2e`);
    const human = await cli.run(admin, ['gateway', 'enroll-token']);
    assert.match(
      human.stdout,
      new RegExp(`portcullis gateway start --server ${url.replace(/[.]/g, '\\.')} --token-file enroll-token$`, 'm'),
    );

    // As the printed command says: the token in a file only this user can read, in the gateway's folder.
    writeFileSync(join(gatewayUser.home, 'enroll-token'), `${token}\n`, { mode: 0o600 });
    gateway = cli.start(gatewayUser, ['gateway', 'start', '--server', url, '--token-file', 'enroll-token', '--name', 'gw-e2e']);
    await gateway.waitFor(/is running/);
    const credential = filesUnder(gatewayUser.configDir).find((f) => f.path.endsWith('gateway-credential.json'));
    assert.ok(credential, 'the credential file is written');
    assert.equal(credential.mode, 0o600);

    let gateways: GatewayDto[] = [];
    for (let i = 0; i < 100; i++) {
      const list = await cli.run(admin, ['gateway', 'list', '--output', 'json']);
      gateways = JSON.parse(list.stdout);
      if (gateways.some((g) => g.name === 'gw-e2e' && g.online)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(
      gateways.some((g) => g.name === 'gw-e2e' && g.online),
      `gateway online: ${JSON.stringify(gateways)}\n${gateway.output()}`,
    );
  });

  it('admin: creates a resource by gateway name and an account with the password on stdin', async () => {
    const resource = await cli.run(admin, [
      'resource',
      'create',
      '--name',
      'shop-db',
      '--gateway',
      'gw-e2e',
      '--connection-string',
      `mongodb://127.0.0.1:${ferret.port}`,
      '--no-tls',
      '--output',
      'json',
    ]);
    assert.equal(resource.code, 0, resource.stderr);
    const created = JSON.parse(resource.stdout) as ResourceDto;
    assert.equal(created.name, 'shop-db');
    assert.equal(created.authDatabase, 'admin');
    assert.equal(created.tlsEnabled, false);

    const account = await cli.run(
      admin,
      ['account', 'create', '--resource', 'shop-db', '--name', 'app-rw', '--username', 'app', '--max-duration', '2h', '--password-stdin'],
      { input: `${accountPassword}\n` },
    );
    assert.equal(account.code, 0, account.stderr);
    assert.match(account.stdout, /Created account "app-rw"/);
    assert.match(account.stdout, /portcullis access --resource shop-db --account app-rw/);

    const list = await cli.run(admin, ['account', 'list', '--resource', 'shop-db']);
    assert.match(list.stdout, /^NAME\s+ID\s+USERNAME\s+MFA\s+MAX DURATION/m);
    assert.match(list.stdout, /app-rw\s+acc_\S+\s+app\s+no\s+2h/);

    const typo = await cli.run(admin, ['account', 'show', 'app-rx', '--resource', 'shop-db']);
    assert.equal(typo.code, 4);
    assert.match(typo.stderr, /no account on resource "shop-db" named "app-rx"; did you mean "app-rw"\?/);
  });

  it('member: signs in, runs access, mongosh works on the printed URI without a password, Ctrl+C ends the session', async () => {
    const api = new ApiClient({ server: url });
    api.setToken((await api.login({ email: adminEmail, password: adminPassword })).token);
    const [project] = (await api.me()).projects;
    await api.addMember(project.id, { email: memberEmail, role: 'member', name: 'Member', password: memberPassword });
    await api.logout();

    const login = await cli.run(member, ['login', '--server', url, '--email', memberEmail, '--password-stdin'], {
      input: `${memberPassword}\n`,
    });
    assert.equal(login.code, 0, login.stderr);

    const access = cli.start(member, ['access', '--resource', 'shop-db', '--account', 'app-rw', '--duration', '30m', '--output', 'json']);
    const ready = JSON.parse((await access.waitFor(/\{"uri".*\}/))[0]) as { uri: string; sessionId: string; expiresAt: string };
    assert.match(ready.uri, /^mongodb:\/\/127\.0\.0\.1:\d+\//);
    assert.doesNotMatch(ready.uri, /@/, 'no credentials in the local address');
    assert.match(ready.sessionId, /^ses_/);
    assert.ok(new Date(ready.expiresAt).getTime() > Date.now());
    sessionId = ready.sessionId;
    sampleCommandLines(server, gateway, access);

    // mongosh's 2 s default for the first connection is too tight on a loaded 2-core machine.
    const shell = await runMongosh(
      `${ready.uri}?serverSelectionTimeoutMS=30000`,
      `const c = db.getSiblingDB('shop').orders;
       c.insertMany([{ _id: 1, item: 'tea' }, { _id: 2, item: 'cake' }]);
       print(JSON.stringify(c.find({}).sort({ _id: 1 }).toArray()));`,
    );
    assert.equal(
      shell.code,
      0,
      `${shell.stderr}${shell.stdout}\n--- access:\n${access.output()}\n--- gateway:\n${gateway.output().slice(-4000)}`,
    );
    assert.deepEqual(JSON.parse(shell.stdout.trim().split('\n').pop() ?? ''), [
      { _id: 1, item: 'tea' },
      { _id: 2, item: 'cake' },
    ]);
    sampleCommandLines(server, gateway, access);

    access.child.kill('SIGINT');
    assert.equal(await access.exited(), 0, access.output());
    const ended = JSON.parse(access.stdout().trim().split('\n').pop() ?? '') as { event: string; sessionId: string; state: string };
    assert.equal(ended.event, 'ended');
    assert.equal(ended.sessionId, sessionId);
    assert.equal(ended.state, 'ended');
  });

  it('member: session list shows the session ended, with its duration; session logs show what mongosh ran', async () => {
    const list = await cli.run(member, ['session', 'list', '--output', 'json']);
    assert.equal(list.code, 0, list.stderr);
    const session = (JSON.parse(list.stdout) as SessionDto[]).find((s) => s.id === sessionId);
    assert.ok(session, list.stdout);
    assert.equal(session.state, 'ended');
    assert.equal(session.endReason, 'stopped');
    assert.ok(session.endedAt);
    assert.equal(typeof session.durationSeconds, 'number');
    assert.ok(session.connections >= 1);

    const human = await cli.run(member, ['session', 'list', '--state', 'ended']);
    assert.match(human.stdout, /^ID\s+STATE\s+USER\s+RESOURCE\s+ACCOUNT\s+STARTED\s+DURATION\s+CONNECTIONS\s+COMMANDS/m);
    assert.match(
      human.stdout,
      new RegExp(`${sessionId}\\s+ended\\s+\\(stopped\\)\\s+${memberEmail}\\s+shop-db\\s+app-rw\\s+\\S+ \\S+\\s+\\d+s`),
    );

    const logs = await cli.run(member, ['session', 'logs', sessionId, '--output', 'json']);
    assert.equal(logs.code, 0, logs.stderr);
    const commands = (JSON.parse(logs.stdout) as StoredSessionLogEvent[]).filter((e) => e.kind === 'command');
    const insert = commands.find((e) => e.kind === 'command' && e.command === 'insert');
    const find = commands.find((e) => e.kind === 'command' && e.command === 'find');
    assert.ok(insert && insert.kind === 'command' && insert.database === 'shop' && insert.collection === 'orders', logs.stdout);
    assert.ok(find && find.kind === 'command' && find.collection === 'orders' && find.documents === 2, logs.stdout);

    const table = await cli.run(admin, ['session', 'logs', sessionId]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^TIME\s+DATABASE\s+COMMAND\s+COLLECTION\s+OUTCOME\s+DOCUMENTS\s+DURATION MS$/m);
    assert.match(table.stdout, /shop\s+insert\s+orders\s+ok\s+/);
    assert.match(table.stdout, /shop\s+find\s+orders\s+ok\s+2\s+\d+/);
  });

  it('member: access --exec mongosh runs the client on the address and ends the session when it exits', async () => {
    const result = await cli.run(
      member,
      [
        'access',
        '--resource',
        'shop-db',
        '--account',
        'app-rw',
        '--exec',
        'mongosh',
        '--',
        '--quiet',
        '--norc',
        '--eval',
        "print('count=' + db.getSiblingDB('shop').orders.countDocuments())",
      ],
      { timeoutMs: 90_000 },
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /Password:\s+not required/);
    assert.match(result.stdout, /count=2/);
    const id = result.stdout.match(/Session:\s+(ses_\S+)/)?.[1];
    assert.ok(id);
    assert.match(
      result.stdout,
      new RegExp(`Session ${id} ended \\(stopped\\): .*1 connection|Session ${id} ended \\(stopped\\): .*connections`),
    );
  });

  it('policies: a read-only account that requires a reason; the member gives one, mongosh is refused a write; the log shows both', async () => {
    const created = await cli.run(
      admin,
      [
        'account',
        'create',
        '--resource',
        'shop-db',
        '--name',
        'reporting',
        '--username',
        'app',
        '--mode',
        'read-only',
        '--databases',
        'shop,logs_*',
        '--deny-preset',
        'safe-defaults',
        '--reason-required',
        '--password-stdin',
      ],
      { input: `${accountPassword}\n` },
    );
    assert.equal(created.code, 0, created.stderr);
    const shown = await cli.run(admin, ['account', 'show', 'reporting', '--resource', 'shop-db']);
    assert.match(shown.stdout, /Mode:\s+read-only/);
    assert.match(shown.stdout, /Databases:\s+shop, logs_\*/);
    assert.match(shown.stdout, /Denied:\s+dropDatabase, drop, /);
    assert.match(shown.stdout, /Reason required:\s+yes/);
    const list = await cli.run(admin, ['account', 'list', '--resource', 'shop-db']);
    assert.match(list.stdout, /reporting .*read-only; databases shop, logs_\*; \d+ denied; reason required/);

    // Not at a terminal and no --reason: refused, saying how to give one.
    const without = await cli.run(member, ['access', '--resource', 'shop-db', '--account', 'reporting', '--exec', 'mongosh']);
    assert.equal(without.code, 1, without.stdout + without.stderr);
    assert.match(without.stderr, /requires a reason for access: say why you need it \(portcullis access --reason/);

    const result = await cli.run(
      member,
      [
        'access',
        '--resource',
        'shop-db',
        '--account',
        'reporting',
        '--reason',
        'INC-7: count the orders',
        '--exec',
        'mongosh',
        '--',
        '--quiet',
        '--norc',
        '--eval',
        "print('count=' + db.getSiblingDB('shop').orders.countDocuments()); try { db.getSiblingDB('shop').orders.insertOne({_id: 'x'}) } catch (e) { print('refused: ' + e.message) }",
      ],
      { timeoutMs: 90_000 },
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /count=2/);
    assert.match(result.stdout, /refused: the account "reporting" is read-only \(Portcullis policy\): insert is not allowed/);
    const id = result.stdout.match(/Session:\s+(ses_\S+)/)?.[1];
    assert.ok(id);
    const logs = await cli.run(member, ['session', 'logs', id]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /^Reason: INC-7: count the orders$/m);
    assert.match(logs.stdout, /insert\s+orders\s+refused by policy \(read-only\)/);
    const session = await cli.run(member, ['session', 'show', id]);
    assert.match(session.stdout, /Reason:\s+INC-7: count the orders/);
    assert.match(session.stdout, /Flags:\s+\d+/);
    // Refused commands are flagged: the session is listed by that flag, with its count.
    const flagged = await cli.run(member, ['session', 'list', '--flag', 'policy-refusal']);
    assert.equal(flagged.code, 0, flagged.stderr);
    assert.match(flagged.stdout, new RegExp(`^${id}\\s.*\\s\\d+$`, 'm'));
    assert.match(logs.stdout, /! policy-refusal: insert on shop refused by the account policy \(read-only\)/);
  });

  it('approvals: access waits for an admin; approve lets it through and grants more sessions; deny, Ctrl+C and self-approval', async () => {
    for (const name of ['on-call', 'break-glass']) {
      const created = await cli.run(
        admin,
        ['account', 'create', '--resource', 'shop-db', '--name', name, '--username', 'app', '--approval-required', '--password-stdin'],
        { input: `${accountPassword}\n` },
      );
      assert.equal(created.code, 0, created.stderr);
    }
    assert.match((await cli.run(admin, ['account', 'show', 'on-call', '--resource', 'shop-db'])).stdout, /Approval required:\s+yes/);

    const count = [
      '--exec',
      'mongosh',
      '--',
      '--quiet',
      '--norc',
      '--eval',
      "print('n=' + db.getSiblingDB('shop').orders.countDocuments())",
    ];
    const waiting = cli.start(member, ['access', '--resource', 'shop-db', '--account', 'on-call', '--reason', 'INC-9: recount', ...count]);
    const requestId = (await waiting.waitFor(/Request (req_\S+) was sent to the project's admins/))[1];
    await waiting.waitFor(/Ctrl\+C withdraws the request/);
    const inbox = await cli.run(admin, ['request', 'list']);
    assert.equal(inbox.code, 0, inbox.stderr);
    assert.match(inbox.stdout, new RegExp(`^${requestId}\\s+pending\\s+${memberEmail}\\s+shop-db / on-call\\s.*INC-9: recount`, 'm'));
    const byMember = await cli.run(member, ['request', 'approve', requestId]);
    assert.equal(byMember.code, 5, byMember.stdout + byMember.stderr);
    const approved = await cli.run(admin, ['request', 'approve', requestId, '--note', 'go ahead']);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, new RegExp(`Approved ${requestId}: ${memberEmail} may use shop-db as on-call until`));
    assert.equal(await waiting.exited(), 0, waiting.output());
    assert.match(waiting.stdout(), /n=2/);

    // The grant allows another session at once, with no reason and no new request.
    const again = await cli.run(member, ['access', '--resource', 'shop-db', '--account', 'on-call', ...count], { timeoutMs: 90_000 });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.doesNotMatch(again.stderr, /requires an admin's approval/);
    const shown = await cli.run(member, ['request', 'show', requestId]);
    assert.match(shown.stdout, /State:\s+approved/);
    assert.match(shown.stdout, /Note:\s+go ahead/);
    assert.match(shown.stdout, /Sessions:\s+2/);

    // A denial reaches the waiting access: exit 10, saying who denied it and why.
    const denied = cli.start(member, ['access', '--resource', 'shop-db', '--account', 'break-glass', '--reason', 'just looking']);
    const deniedId = (await denied.waitFor(/Request (req_\S+) was sent/))[1];
    assert.equal((await cli.run(admin, ['request', 'deny', deniedId, '--note', 'use staging'])).code, 0);
    assert.equal(await denied.exited(), 10, denied.output());
    assert.match(denied.output(), new RegExp(`${adminEmail} denied the access request ${deniedId}: use staging`));

    // Ctrl+C while waiting withdraws the request.
    const withdrawn = cli.start(member, ['access', '--resource', 'shop-db', '--account', 'break-glass', '--reason', 'second try']);
    const withdrawnId = (await withdrawn.waitFor(/Request (req_\S+) was sent/))[1];
    await withdrawn.waitFor(/Ctrl\+C withdraws the request/);
    withdrawn.child.kill('SIGINT');
    assert.equal(await withdrawn.exited(), 130, withdrawn.output());
    assert.match((await cli.run(admin, ['request', 'show', withdrawnId])).stdout, /State:\s+cancelled/);

    // --no-wait sends the request and exits 10; an admin cannot approve their own request.
    const own = await cli.run(admin, ['access', '--resource', 'shop-db', '--account', 'break-glass', '--reason', 'admin too', '--no-wait']);
    assert.equal(own.code, 10, own.stdout + own.stderr);
    const ownId = own.stderr.match(/request (req_\S+) is waiting/)?.[1];
    assert.ok(ownId, own.stderr);
    const self = await cli.run(admin, ['request', 'approve', ownId]);
    assert.equal(self.code, 5, self.stdout + self.stderr);
    assert.match(self.stderr, /another admin of the project must approve or deny it/);
    assert.equal((await cli.run(admin, ['request', 'cancel', ownId])).code, 0);
  });

  it('admin: account test and resource test ask the gateway, and a wrong password is named as such (exit 1)', async () => {
    const ok = await cli.run(admin, ['account', 'test', 'app-rw', '--resource', 'shop-db']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^OK \(\d+ ms\): Signed in to the database of resource "shop-db" \(\w+\) as app with SCRAM-SHA-256\.$/m);
    const wrong = await cli.run(admin, ['account', 'test', 'app-rw', '--resource', 'shop-db', '--password-stdin'], { input: 'not-it\n' });
    assert.equal(wrong.code, 1, wrong.stdout + wrong.stderr);
    assert.match(
      wrong.stderr,
      /the test failed at authenticate \(\d+ ms\): .*could not authenticate .* as app .*Check the account's stored password\./,
    );
    const reach = await cli.run(admin, ['resource', 'test', 'shop-db']);
    assert.equal(reach.code, 0, reach.stderr);
    assert.match(reach.stdout, /Reached the database of resource "shop-db"/);
    const byMember = await cli.run(member, ['account', 'test', 'app-rw', '--resource', 'shop-db']);
    assert.equal(byMember.code, 5, byMember.stdout + byMember.stderr);
  });

  it('session search: finds recorded commands by their text across sessions, with filters, and explains bad input', async () => {
    const found = await cli.run(admin, ['session', 'search', 'orders', '--resource', 'shop-db', '--user', memberEmail]);
    assert.equal(found.code, 0, found.stderr);
    assert.match(found.stdout, /^TIME\s+SESSION\s+USER\s+RESOURCE \/ ACCOUNT\s+COMMAND\s+INPUT/m);
    assert.match(found.stdout, new RegExp(`ses_\\S+\\s+${memberEmail}\\s+shop-db / \\S+\\s+\\w+\\s+.*orders`));
    const json = JSON.parse((await cli.run(member, ['session', 'search', 'aggregate', 'ord', '--output', 'json'])).stdout) as Array<{
      userEmail: string;
      input: string;
    }>;
    assert.ok(json.length > 0, 'the last word matches as a prefix');
    assert.ok(json.every((hit) => hit.userEmail === memberEmail && /orders/.test(hit.input)));
    assert.match((await cli.run(member, ['session', 'search', 'zzqx'])).stdout, /No recorded command matches/);
    const bad = await cli.run(member, ['session', 'search', 'orders', '--from', 'yesterday-ish']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /not a date or time: "yesterday-ish"/);
  });

  it('admin: session terminate ends a running access; the member sees why and exit code 9', async () => {
    const access = cli.start(member, ['access', '--resource', 'shop-db', '--account', 'app-rw']);
    const id = (await access.waitFor(/Session:\s+(ses_\S+)/))[1];
    const terminate = await cli.run(admin, ['session', 'terminate', id]);
    assert.equal(terminate.code, 0, terminate.stderr);
    assert.match(terminate.stdout, new RegExp(`Terminated session ${id} of ${memberEmail}`));
    assert.equal(await access.exited(), 9, access.output());
    assert.match(access.output(), /The session ended: an admin terminated the session/);
    assert.match(access.stdout(), new RegExp(`Session ${id} terminated`));
    const show = await cli.run(admin, ['session', 'show', id, '--output', 'json']);
    assert.equal((JSON.parse(show.stdout) as SessionDto).state, 'terminated');
  });

  it('member: clear errors for a wrong account name (close matches), a port in use, and admin-only commands', async () => {
    const wrong = await cli.run(member, ['access', '--resource', 'shop-db', '--account', 'app_rw']);
    assert.equal(wrong.code, 4);
    assert.match(wrong.stderr, /did you mean "app-rw"\?/);

    const first = cli.start(member, ['access', '--resource', 'shop-db', '--account', 'app-rw', '--output', 'json']);
    const { uri } = JSON.parse((await first.waitFor(/\{"uri".*\}/))[0]) as { uri: string };
    const port = new URL(uri).port;
    const busy = await cli.run(member, ['access', '--resource', 'shop-db', '--account', 'app-rw', '--port', port]);
    assert.equal(busy.code, 8);
    assert.match(busy.stderr, new RegExp(`port ${port} .*in use.*--port`));
    first.child.kill('SIGTERM');
    assert.equal(await first.exited(), 0, first.output());

    const forbidden = await cli.run(member, ['gateway', 'enroll-token']);
    assert.notEqual(forbidden.code, 0);
    assert.doesNotMatch(forbidden.stderr, /\n\s+at /);
  });

  it('member: an MFA-required account asks for the code, explains a wrong one and asks again', async () => {
    const account = await cli.run(
      admin,
      ['account', 'create', '--resource', 'shop-db', '--name', 'app-mfa', '--username', 'app', '--mfa-required', '--password-stdin'],
      { input: `${accountPassword}\n` },
    );
    assert.equal(account.code, 0, account.stderr);
    const api = new ApiClient({ server: url });
    api.setToken((await api.login({ email: memberEmail, password: memberPassword })).token);
    const enrollment = await api.startTotpEnrollment();
    const totp = OTPAuth.URI.parse(enrollment.uri) as OTPAuth.TOTP;
    await api.confirmTotpEnrollment(totp.generate());
    // A code is good once per 30 s step (no replay): wait for the next step before signing in with one.
    const step = Math.floor(Date.now() / 30_000);
    while (Math.floor(Date.now() / 30_000) === step) await new Promise((r) => setTimeout(r, 250));

    const access = cli.start(member, ['access', '--resource', 'shop-db', '--account', 'app-mfa']);
    await access.waitFor(/This account requires a second factor[\s\S]*Code from your authenticator app: /);
    access.child.stdin?.write('000000\n');
    await access.waitFor(/That code was not accepted: .+\. Try again/);
    access.child.stdin?.write(`${totp.generate()}\n`);
    const id = (await access.waitFor(/Session:\s+(ses_\S+)/))[1];
    access.child.kill('SIGINT');
    assert.equal(await access.exited(), 0, access.output());
    const show = await cli.run(member, ['session', 'show', id, '--output', 'json']);
    assert.equal((JSON.parse(show.stdout) as SessionDto).mfaMethod, 'totp');
    await api.logout();
  });

  it('gateway stopped with SIGTERM: it exits cleanly, shows offline, and access says the gateway is offline (exit 7)', async () => {
    gateway.child.kill('SIGTERM');
    assert.equal(await gateway.exited(), 0, gateway.output());
    assert.match(gateway.output(), /Gateway stopped\./);
    let online = true;
    for (let i = 0; i < 100 && online; i++) {
      const list = JSON.parse((await cli.run(admin, ['gateway', 'list', '--output', 'json'])).stdout) as GatewayDto[];
      online = list.some((g) => g.name === 'gw-e2e' && g.online);
      if (online) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(online, false, 'the gateway shows offline');
    const access = await cli.run(member, ['access', '--resource', 'shop-db', '--account', 'app-rw']);
    assert.equal(access.code, 7, access.stdout + access.stderr);
    assert.match(access.stderr, /offline.*start it \(portcullis gateway start\) or ask an admin/);
  });

  it('logout revokes the token at the server and forgets it here', async () => {
    const tokenFile = filesUnder(admin.configDir).find((f) => f.path.endsWith('token.json'));
    assert.ok(tokenFile);
    const oldToken = (JSON.parse(tokenFile.content.toString()) as { token: string }).token;
    const logout = await cli.run(admin, ['logout']);
    assert.equal(logout.code, 0, logout.stderr);
    assert.match(logout.stdout, /Signed out of/);
    assert.equal(
      filesUnder(admin.configDir).some((f) => f.path.endsWith('token.json')),
      false,
    );
    const whoami = await cli.run(admin, ['whoami']);
    assert.equal(whoami.code, 2);
    assert.match(whoami.stderr, new RegExp(`not signed in; run portcullis login --server ${url.replace(/[.]/g, '\\.')}`));
    const revoked = await new ApiClient({ server: url, token: oldToken }).me().catch((error: unknown) => error);
    assert.equal((revoked as { code?: string }).code, 'unauthenticated');
  });

  it('no password (account or user) in any output, stored file or process argument', async () => {
    const secrets = [accountPassword, memberPassword];
    const outputs = [...cli.outputs, server.output(), gateway.output()].join('\n');
    for (const secret of secrets) {
      assert.equal(outputs.includes(secret), false, 'a password appeared in the output of a command, the server or the gateway');
    }
    for (const user of [admin, member, gatewayUser, serverUser]) {
      for (const file of filesUnder(user.home)) {
        for (const secret of [...secrets, adminPassword]) {
          assert.equal(file.content.includes(secret), false, `a password is stored in ${file.path}`);
        }
      }
    }
    assert.ok(commandLines.length >= 6, 'command lines were sampled while the processes ran');
    for (const line of commandLines) {
      for (const secret of [...secrets, adminPassword])
        assert.equal(line.includes(secret), false, `a password is in the arguments: ${line}`);
    }
  });
});
