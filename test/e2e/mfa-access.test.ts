/**
 * MFA end to end with real parts: the control plane (SQLite) with its relay, a gateway agent, FerretDB with SCRAM,
 * a real SMTP server receiving the email codes, proxy-core's startAccess asking for codes, and mongosh through
 * the local address. TOTP codes are computed by the test from the enrolled secret, as an authenticator app would.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { type GatewayAgent, startGatewayAgent } from '../../gateway/agent/agent';
import { enrollGateway } from '../../gateway/agent/enroll';
import type { AccessMfaChallenge } from '../../protocol/api';
import { startAccess } from '../../proxy-core/access';
import { ApiClient, type ApiError } from '../../proxy-core/api-client';
import { resolveConfig } from '../../server/config';
import { startControlPlane } from '../../server/control-plane';
import { relayDepsFromServices } from '../../server/relay/control-plane-deps';
import { attachRelay } from '../../server/relay/relay';
import { type FerretDBServer, startFerretDB } from '../bed/ferretdb';
import { runMongosh } from '../bed/mongosh';
import { removeTempDir, trackTempDir } from '../bed/processes';
import { type SmtpTestServer, startSmtpServer } from '../bed/smtp';
import { accessBody } from '../bed/tunnel-key';

const ROOT = join(__dirname, '..', '..');

function appCode(secret: string, at = new Date()): string {
  return new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({ timestamp: at.getTime() });
}

/** A code that is not the current one (nor its neighbours), to type wrong on purpose. */
function wrongCode(secret: string): string {
  const near = new Set([-30_000, 0, 30_000].map((d) => appCode(secret, new Date(Date.now() + d))));
  for (let n = 0; ; n++) {
    const candidate = String(n).padStart(6, '0');
    if (!near.has(candidate)) return candidate;
  }
}

/** Waits for the next 30-second step so that a fresh TOTP code is not refused as a replay of the last one. */
async function nextTotpStep(): Promise<void> {
  await new Promise((r) => setTimeout(r, 30_000 - (Date.now() % 30_000) + 200));
}

interface Stack {
  url: string;
  admin: ApiClient;
  projectId: string;
  mfaAccountId: string;
  plainAccountId: string;
  newUser(name: string): Promise<{ client: ApiClient; token: string; email: string; password: string }>;
  stop(): Promise<void>;
}

/** A control plane with its relay (SMTP: the test server, or none), one gateway, one resource, two accounts. */
async function startStack(ferret: FerretDBServer, smtp: SmtpTestServer | null): Promise<Stack> {
  const dataDir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-mfa-e2e-')));
  const server = await startControlPlane(resolveConfig({ dataDir, listenPort: 0, logger: false }), {
    smtp: smtp ? { host: smtp.host, port: smtp.port, secure: false, from: 'portcullis@example.com' } : null,
  });
  const relay = attachRelay(server.httpServer, relayDepsFromServices(server.services));
  assert.ok(server.bootstrapResult, 'a fresh server creates its first admin');
  const admin = new ApiClient({ server: server.url });
  admin.setToken((await admin.login(server.bootstrapResult)).token);
  const projectId = (await admin.me()).projects[0].id;
  const { token } = await admin.createEnrollmentToken({ projectId, name: 'gw' });
  const { credential, gatewayId } = await enrollGateway({ server: server.url, token, name: 'gw' });
  const gateway: GatewayAgent = await startGatewayAgent({ server: server.url, credential, name: 'gw' });
  const resource = await admin.createResource(projectId, {
    name: 'orders',
    gatewayId,
    connectionString: ferret.uri,
    tlsEnabled: false,
  });
  const account = (name: string, mfaRequired: boolean) =>
    admin.createAccount(resource.id, { name, username: ferret.username, password: ferret.password, mfaRequired });
  const mfaAccountId = (await account('guarded', true)).id;
  const plainAccountId = (await account('open', false)).id;
  return {
    url: server.url,
    admin,
    projectId,
    mfaAccountId,
    plainAccountId,
    async newUser(name) {
      const email = `${name}@example.com`;
      const password = `pw-${name}-${Date.now()}`;
      await admin.addMember(projectId, { email, role: 'member', name, password });
      const client = new ApiClient({ server: server.url });
      const login = await client.login({ email, password });
      client.setToken(login.token);
      return { client, token: login.token, email, password };
    },
    async stop() {
      await gateway.stop();
      await relay.close();
      await server.close();
      removeTempDir(dataDir);
    },
  };
}

async function pingThrough(uri: string): Promise<void> {
  const result = await runMongosh(uri, 'print(JSON.stringify(db.runCommand({ ping: 1 }).ok))');
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.equal(result.stdout.trim(), '1');
}

describe('MFA on access, end to end', () => {
  let ferret: FerretDBServer;
  let smtp: SmtpTestServer;
  let stack: Stack;

  before(async () => {
    [ferret, smtp] = await Promise.all([startFerretDB(), startSmtpServer()]);
    stack = await startStack(ferret, smtp);
  });
  after(async () => {
    await stack?.stop();
    await smtp?.stop();
    await ferret?.stop();
  });

  it('an account without MFA is unaffected: a session at once, no challenge', async () => {
    const user = await stack.newUser('plain');
    let asked = 0;
    const handle = await startAccess({
      server: stack.url,
      token: user.token,
      accountId: stack.plainAccountId,
      onMfa: async () => {
        asked++;
        return undefined;
      },
    });
    try {
      assert.equal(asked, 0);
      assert.equal(handle.session.mfaMethod, null);
      await pingThrough(handle.uri);
    } finally {
      await handle.stop();
    }
  });

  it('emails a code through the real SMTP server; a wrong code is explained and the right one opens the session', async () => {
    const user = await stack.newUser('mailed');
    // Before the code: a challenge, not a session, and nothing for the gateway.
    const first = await user.client.requestAccess(stack.mfaAccountId, accessBody());
    assert.equal(first.kind, 'mfa');
    assert.equal((await user.client.listSessions({ projectId: stack.projectId })).items.length, 0);

    // The challenge startAccess gets sends the next email; the one above is left unanswered.
    const mailsBefore = smtp.messages.length;
    const emailedCode = async (): Promise<string> => {
      const message = await smtp.waitForMessage((m) => m.to.includes(user.email) && smtp.messages.indexOf(m) >= mailsBefore);
      const code = /code is (\d{6})/.exec(message.text)?.[1];
      assert.ok(code, message.text);
      return code;
    };
    const prompts: Array<{ challenge: AccessMfaChallenge; error?: string }> = [];
    const handle = await startAccess({
      server: stack.url,
      token: user.token,
      accountId: stack.mfaAccountId,
      onMfa: async (challenge, attempt) => {
        prompts.push({ challenge, error: attempt.error });
        const code = await emailedCode();
        if (prompts.length === 1) return code === '000000' ? '111111' : '000000';
        return code;
      },
    });
    try {
      assert.equal(prompts.length, 2);
      assert.equal(prompts[0].challenge.method, 'email');
      assert.equal(prompts[0].challenge.sentTo, 'm***@example.com');
      assert.equal(prompts[0].error, undefined);
      assert.match(prompts[1].error ?? '', /wrong code: 4 attempts left/);
      assert.equal(handle.session.mfaMethod, 'email');
      await pingThrough(handle.uri);
      const session = await user.client.getSession(handle.session.id);
      assert.equal(session.mfaMethod, 'email');
    } finally {
      await handle.stop();
    }
    const audit = await stack.admin.listAudit(stack.projectId, { limit: 100 });
    const mine = audit.items.filter((e) => e.actorEmail === user.email).map((e) => e.action);
    assert.ok(mine.includes('mfa.challenge.issued'));
    assert.ok(mine.includes('mfa.challenge.failed'));
    assert.ok(mine.includes('mfa.challenge.passed'));
  });

  it('enrolls an authenticator app through the API, then access asks for TOTP and refuses a replayed code', async () => {
    const user = await stack.newUser('appuser');
    const { secret, uri } = await user.client.startTotpEnrollment();
    assert.match(uri, /^otpauth:\/\/totp\//);
    await assert.rejects(user.client.confirmTotpEnrollment(wrongCode(secret)), (e: ApiError) => e.code === 'mfa_invalid');
    const status = await user.client.confirmTotpEnrollment(appCode(secret));
    assert.equal(status.totp.enrolled, true);

    await nextTotpStep();
    const code = appCode(secret);
    const handle = await startAccess({
      server: stack.url,
      token: user.token,
      accountId: stack.mfaAccountId,
      onMfa: async (challenge) => {
        assert.equal(challenge.method, 'totp');
        return code;
      },
    });
    try {
      assert.equal(handle.session.mfaMethod, 'totp');
      await pingThrough(handle.uri);
    } finally {
      await handle.stop();
    }
    // The same code again, within its 30-second window: refused.
    const again = await user.client.requestAccess(stack.mfaAccountId, accessBody());
    assert.equal(again.kind, 'mfa');
    await assert.rejects(
      user.client.requestAccess(stack.mfaAccountId, {
        ...accessBody(),
        mfa: { challengeId: again.kind === 'mfa' ? again.challengeId : '', code },
      }),
      (e: ApiError) => e.code === 'mfa_invalid' && /already used/.test(e.message),
    );

    // Removing it needs a valid code; then access falls back to email.
    await nextTotpStep();
    await user.client.removeTotp(appCode(secret));
    const fallback = await user.client.requestAccess(stack.mfaAccountId, accessBody());
    assert.equal(fallback.kind === 'mfa' && fallback.method, 'email');
  });

  it('the project policy wins: enforced TOTP without an app is a clear error; only admins set it', async () => {
    const user = await stack.newUser('policed');
    await assert.rejects(user.client.setMfaPolicy(stack.projectId, 'totp'), (e: ApiError) => e.status === 403 && e.code === 'forbidden');
    assert.deepEqual(await stack.admin.setMfaPolicy(stack.projectId, 'totp'), { enforcedMethod: 'totp' });
    try {
      await assert.rejects(
        user.client.requestAccess(stack.mfaAccountId, accessBody()),
        (e: ApiError) => e.code === 'mfa_not_configured' && /portcullis mfa enroll totp/.test(e.message),
      );
      // Enforcement chooses how, not whether: the account without MFA still opens directly.
      const open = await user.client.requestAccess(stack.plainAccountId, accessBody());
      assert.equal(open.kind, 'session');
      if (open.kind === 'session') await user.client.stopSession(open.session.id);
      const status = await user.client.getMfaStatus();
      assert.equal(status.projects[0].enforcedMethod, 'totp');
    } finally {
      await stack.admin.setMfaPolicy(stack.projectId, null);
    }
  });

  it('`portcullis mfa enroll totp` shows a QR code, explains a wrong code and confirms the right one', async () => {
    const user = await stack.newUser('cliuser');
    const configDir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-mfa-cli-')));
    const env = { ...process.env, PORTCULLIS_CONFIG_DIR: configDir, HOME: configDir, XDG_CONFIG_HOME: configDir, NO_COLOR: '1' };
    const cli = (args: string[]) => spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/main.ts'), ...args], { cwd: ROOT, env });

    const login = cli(['login', '--server', stack.url, '--email', user.email, '--password-stdin']);
    login.stdin.end(`${user.password}\n`);
    assert.equal(await exitCode(login), 0);

    const enroll = cli(['mfa', 'enroll', 'totp']);
    let stdout = '';
    let stderr = '';
    enroll.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const secret = await new Promise<string>((resolve, reject) => {
      enroll.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /enter this key by hand: ([A-Z2-7]+)/.exec(stdout);
        if (match) resolve(match[1]);
      });
      enroll.once('exit', () => reject(new Error(`enroll exited early: ${stdout}${stderr}`)));
    });
    assert.match(stdout, /[▀▄█]/, 'a QR code drawn with block characters');
    enroll.stdin.write(`${wrongCode(secret)}\n`);
    await waitFor(() => /not accepted/.test(stderr));
    enroll.stdin.end(`${appCode(secret)}\n`);
    assert.equal(await exitCode(enroll), 0, stderr);
    assert.match(stdout, /Authenticator app confirmed/);
    assert.match(stderr, /That code was not accepted: wrong code/);
    assert.equal((await user.client.getMfaStatus()).totp.enrolled, true);
    removeTempDir(configDir);
  });
});

describe('MFA without an SMTP server', () => {
  let ferret: FerretDBServer;
  let stack: Stack;
  before(async () => {
    ferret = await startFerretDB();
    stack = await startStack(ferret, null);
  });
  after(async () => {
    await stack?.stop();
    await ferret?.stop();
  });

  it('email fallback is an explicit error naming the setting, never a session', async () => {
    const user = await stack.newUser('nomail');
    await assert.rejects(
      user.client.requestAccess(stack.mfaAccountId, accessBody()),
      (e: ApiError) => e.code === 'mfa_not_configured' && /PORTCULLIS_SMTP_HOST/.test(e.message),
    );
    assert.equal((await user.client.listSessions({ projectId: stack.projectId })).items.length, 0);
    assert.equal((await user.client.getMfaStatus()).email.available, false);
  });
});

function exitCode(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
