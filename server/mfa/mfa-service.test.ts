import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { startPostgres } from '../../test/bed/postgres';
import { removeTempDir, trackTempDir } from '../../test/bed/processes';
import { type SmtpTestServer, startSmtpServer } from '../../test/bed/smtp';
import type { Actor } from '../services/context';
import type { ServiceError } from '../services/service-error';
import { newId } from '../store/ids';
import { openStore } from '../store/open-store';
import type { Store } from '../store/store';
import { createEmailSender } from './email-sender';
import { mfaDb } from './mfa-schema';
import { MFA_LIMITS, type MfaAccount, MfaService } from './mfa-service';

/** What an authenticator app would show for this secret at this time. */
function appCode(secret: string, at: Date): string {
  return new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({ timestamp: at.getTime() });
}

function codeFromEmail(text: string): string {
  const match = /verification code is (\d{6})/.exec(text);
  assert.ok(match, `no code in the email: ${text}`);
  return match[1];
}

/** A clock the tests move by hand. */
class TestClock {
  time = new Date('2030-01-01T10:00:00.000Z');
  now = () => new Date(this.time);
  advance(seconds: number): void {
    this.time = new Date(this.time.getTime() + seconds * 1000);
  }
}

async function rejects(promise: Promise<unknown>, code: string, message?: RegExp): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    const e = error as ServiceError;
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected an error with code ${code}`);
}

interface Fixture {
  actor: Actor;
  account: MfaAccount;
  otherAccount: MfaAccount;
  projectId: string;
}

async function newFixture(store: Store): Promise<Fixture> {
  const now = new Date().toISOString();
  const userId = newId('usr_');
  const projectId = newId('prj_');
  const email = `user-${randomBytes(4).toString('hex')}@example.com`;
  await store.db
    .insertInto('users')
    .values({ id: userId, email, name: 'User', password_hash: 'x', created_at: now, updated_at: now })
    .execute();
  await store.db
    .insertInto('projects')
    .values({ id: projectId, name: `p-${userId}`, data_key_wrapped: 'x', mfa_enforced_method: null, created_at: now })
    .execute();
  await store.db
    .insertInto('project_members')
    .values({ project_id: projectId, user_id: userId, role: 'member', created_at: now })
    .execute();
  return {
    actor: { userId, email },
    projectId,
    account: { id: newId('acc_'), projectId, label: 'orders / readonly' },
    otherAccount: { id: newId('acc_'), projectId, label: 'orders / admin' },
  };
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`MFA service (${dialect}, real SMTP server)`, () => {
    let store: Store;
    let smtp: SmtpTestServer;
    let stopDb: () => Promise<void>;
    let dataDir: string | undefined;
    const clock = new TestClock();
    let mfa: MfaService;
    let sender: ReturnType<typeof createEmailSender>;

    before(async () => {
      if (dialect === 'postgres') {
        const pg = await startPostgres();
        store = await openStore({ url: pg.url });
        stopDb = pg.stop;
      } else {
        dataDir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-mfa-')));
        store = await openStore({ dataDir });
        stopDb = async () => removeTempDir(dataDir!);
      }
      smtp = await startSmtpServer();
      sender = createEmailSender({ host: smtp.host, port: smtp.port, secure: false, from: 'portcullis@example.com' });
      mfa = new MfaService({ store, key: randomBytes(32), email: sender, now: clock.now });
    });
    after(async () => {
      sender?.close();
      await smtp?.stop();
      await store?.close();
      await stopDb?.();
    });

    async function emailedCode(actor: Actor): Promise<string> {
      const message = await smtp.waitForMessage((m) => m.to.includes(actor.email) && !seen.has(m));
      seen.add(message);
      return codeFromEmail(message.text);
    }
    const seen = new Set<object>();

    async function enrollTotp(actor: Actor): Promise<string> {
      const { secret, uri } = await mfa.startTotpEnrollment(actor);
      assert.match(uri, /^otpauth:\/\/totp\/Portcullis:/);
      assert.ok(uri.includes(`secret=${secret}`));
      await mfa.confirmTotpEnrollment(actor, appCode(secret, clock.now()));
      return secret;
    }

    it('without an authenticator app, emails a 6-digit code through the SMTP server and accepts it once', async () => {
      const f = await newFixture(store);
      const challenge = await mfa.challenge(f.actor, f.account);
      assert.equal(challenge.kind, 'mfa');
      assert.equal(challenge.method, 'email');
      assert.equal(challenge.sentTo, `${f.actor.email[0]}***@example.com`);
      assert.equal(challenge.expiresAt, new Date(clock.time.getTime() + 5 * 60_000).toISOString());
      const message = await smtp.waitForMessage((m) => m.to.includes(f.actor.email));
      seen.add(message);
      assert.equal(message.from, 'portcullis@example.com');
      assert.match(message.text, /orders \/ readonly/);
      const code = codeFromEmail(message.text);

      assert.deepEqual(await mfa.verify(f.actor, f.account, { challengeId: challenge.challengeId, code }), { method: 'email' });
      // Single use: the same right answer a second time is refused.
      await rejects(mfa.verify(f.actor, f.account, { challengeId: challenge.challengeId, code }), 'mfa_expired', /already used/);

      // The code is stored only as a keyed hash.
      const row = await mfaDb(store.db)
        .selectFrom('mfa_challenges')
        .selectAll()
        .where('id', '=', challenge.challengeId)
        .executeTakeFirstOrThrow();
      assert.equal(row.state, 'passed');
      assert.ok(row.code_hash && !row.code_hash.includes(code));
      assert.equal(row.code_hash.length, 64);

      const actions = await store.db
        .selectFrom('audit_events')
        .select(['action', 'details', 'project_id'])
        .where('actor_user_id', '=', f.actor.userId)
        .orderBy('time')
        .execute();
      assert.deepEqual(
        actions.map((a) => a.action),
        ['mfa.challenge.issued', 'mfa.challenge.passed'],
      );
      assert.ok(actions.every((a) => a.project_id === f.projectId && !a.details.includes(code)));
    });

    it('refuses a wrong code saying how many attempts remain, and voids the challenge after 5 wrong codes', async () => {
      const f = await newFixture(store);
      const challenge = await mfa.challenge(f.actor, f.account);
      const code = await emailedCode(f.actor);
      const wrong = code === '000000' ? '111111' : '000000';
      for (let left = 4; left >= 1; left--) {
        await rejects(
          mfa.verify(f.actor, f.account, { challengeId: challenge.challengeId, code: wrong }),
          'mfa_invalid',
          new RegExp(`wrong code: ${left} attempts? left`),
        );
      }
      await rejects(
        mfa.verify(f.actor, f.account, { challengeId: challenge.challengeId, code: wrong }),
        'mfa_expired',
        /last of 5 attempts/,
      );
      // Void: even the right code no longer opens it.
      await rejects(mfa.verify(f.actor, f.account, { challengeId: challenge.challengeId, code }), 'mfa_expired', /void/);
      const failed = await store.db
        .selectFrom('audit_events')
        .select('action')
        .where('actor_user_id', '=', f.actor.userId)
        .where('action', '=', 'mfa.challenge.failed')
        .execute();
      assert.equal(failed.length, 5);
    });

    it('does not count a code that is not 6 digits as an attempt', async () => {
      const f = await newFixture(store);
      const challenge = await mfa.challenge(f.actor, f.account);
      const code = await emailedCode(f.actor);
      await rejects(mfa.verify(f.actor, f.account, { challengeId: challenge.challengeId, code: '12' }), 'mfa_invalid', /6 digits/);
      assert.deepEqual(
        await mfa.verify(f.actor, f.account, { challengeId: challenge.challengeId, code: ` ${code.slice(0, 3)} ${code.slice(3)} ` }),
        {
          method: 'email',
        },
      );
    });

    it('expires a challenge after 5 minutes', async () => {
      const f = await newFixture(store);
      const challenge = await mfa.challenge(f.actor, f.account);
      const code = await emailedCode(f.actor);
      clock.advance(MFA_LIMITS.challengeTtlSeconds);
      await rejects(mfa.verify(f.actor, f.account, { challengeId: challenge.challengeId, code }), 'mfa_expired', /expired/);
      clock.advance(-MFA_LIMITS.challengeTtlSeconds);
      // Once expired it stays void, even if a clock went back.
      await rejects(mfa.verify(f.actor, f.account, { challengeId: challenge.challengeId, code }), 'mfa_expired');
    });

    it('binds a challenge to its user and account', async () => {
      const f = await newFixture(store);
      const intruder = await newFixture(store);
      const challenge = await mfa.challenge(f.actor, f.account);
      const code = await emailedCode(f.actor);
      await rejects(mfa.verify(f.actor, f.otherAccount, { challengeId: challenge.challengeId, code }), 'mfa_expired', /not valid/);
      await rejects(mfa.verify(intruder.actor, f.account, { challengeId: challenge.challengeId, code }), 'mfa_expired', /not valid/);
      assert.deepEqual(await mfa.verify(f.actor, f.account, { challengeId: challenge.challengeId, code }), { method: 'email' });
    });

    it('enrolls an authenticator app only after a correct first code, then challenges with TOTP', async () => {
      const f = await newFixture(store);
      const { secret } = await mfa.startTotpEnrollment(f.actor);
      assert.deepEqual((await mfa.status(f.actor)).totp, { enrolled: false, pending: true, confirmedAt: null });
      // Pending is not enrolled: access still uses email.
      assert.equal((await mfa.challenge(f.actor, f.account)).method, 'email');
      await emailedCode(f.actor);

      const wrong = appCode(secret, new Date(clock.time.getTime() + 10 * 60_000));
      await rejects(mfa.confirmTotpEnrollment(f.actor, wrong), 'mfa_invalid', /wrong code/);
      const status = await mfa.confirmTotpEnrollment(f.actor, appCode(secret, clock.now()));
      assert.equal(status.totp.enrolled, true);
      assert.equal(status.projects[0].effectiveMethod, 'totp');

      clock.advance(30);
      const challenge = await mfa.challenge(f.actor, f.account);
      assert.equal(challenge.method, 'totp');
      assert.equal(challenge.sentTo, undefined);
      assert.deepEqual(await mfa.verify(f.actor, f.account, { challengeId: challenge.challengeId, code: appCode(secret, clock.now()) }), {
        method: 'totp',
      });
      // A second enrollment is refused while one is confirmed.
      await rejects(mfa.startTotpEnrollment(f.actor), 'conflict', /remove it first/);
    });

    it('refuses a TOTP code replayed within its window, and accepts the next one', async () => {
      const f = await newFixture(store);
      const secret = await enrollTotp(f.actor);
      clock.advance(30);
      const code = appCode(secret, clock.now());
      const first = await mfa.challenge(f.actor, f.account);
      await mfa.verify(f.actor, f.account, { challengeId: first.challengeId, code });
      const second = await mfa.challenge(f.actor, f.account);
      await rejects(
        mfa.verify(f.actor, f.account, { challengeId: second.challengeId, code }),
        'mfa_invalid',
        /already used.*4 attempts left/,
      );
      clock.advance(30);
      assert.deepEqual(await mfa.verify(f.actor, f.account, { challengeId: second.challengeId, code: appCode(secret, clock.now()) }), {
        method: 'totp',
      });
    });

    it('accepts a code from the previous 30-second step (a slow typist) but not from two minutes ago', async () => {
      const f = await newFixture(store);
      const secret = await enrollTotp(f.actor);
      clock.advance(120);
      const challenge = await mfa.challenge(f.actor, f.account);
      await rejects(
        mfa.verify(f.actor, f.account, {
          challengeId: challenge.challengeId,
          code: appCode(secret, new Date(clock.time.getTime() - 120_000)),
        }),
        'mfa_invalid',
      );
      const previous = appCode(secret, new Date(clock.time.getTime() - 30_000));
      assert.deepEqual(await mfa.verify(f.actor, f.account, { challengeId: challenge.challengeId, code: previous }), { method: 'totp' });
    });

    it('chooses the method: the project enforced method, else the user TOTP, else email', async () => {
      const f = await newFixture(store);
      const admin = await newFixture(store);
      assert.equal((await mfa.challenge(f.actor, f.account)).method, 'email');
      await emailedCode(f.actor);

      await mfa.setPolicy(admin.actor, f.projectId, 'totp');
      await rejects(mfa.challenge(f.actor, f.account), 'mfa_not_configured', /portcullis mfa enroll totp/);

      await enrollTotp(f.actor);
      assert.equal((await mfa.challenge(f.actor, f.account)).method, 'totp');

      // Enforced email wins over the user's own authenticator app.
      await mfa.setPolicy(admin.actor, f.projectId, 'email');
      const enforcedEmail = await mfa.challenge(f.actor, f.account);
      assert.equal(enforcedEmail.method, 'email');
      await emailedCode(f.actor);

      await mfa.setPolicy(admin.actor, f.projectId, null);
      assert.equal((await mfa.challenge(f.actor, f.account)).method, 'totp');
      assert.deepEqual(await mfa.getPolicy(f.projectId), { enforcedMethod: null });

      const changes = await store.db
        .selectFrom('audit_events')
        .select('details')
        .where('action', '=', 'mfa.policy.changed')
        .where('project_id', '=', f.projectId)
        .execute();
      assert.deepEqual(
        changes.map((c) => JSON.parse(c.details)),
        [
          { from: null, to: 'totp' },
          { from: 'totp', to: 'email' },
          { from: 'email', to: null },
        ],
      );
    });

    it('removes the authenticator app only with a valid code', async () => {
      const f = await newFixture(store);
      const secret = await enrollTotp(f.actor);
      clock.advance(30);
      await rejects(mfa.removeTotp(f.actor, '123456' === appCode(secret, clock.now()) ? '654321' : '123456'), 'mfa_invalid');
      assert.equal((await mfa.status(f.actor)).totp.enrolled, true);
      const status = await mfa.removeTotp(f.actor, appCode(secret, clock.now()));
      assert.deepEqual(status.totp, { enrolled: false, pending: false, confirmedAt: null });
      assert.equal((await mfa.challenge(f.actor, f.account)).method, 'email');
      await emailedCode(f.actor);
    });

    it('locks a user out after 10 wrong codes across challenges, until the window passes', async () => {
      const f = await newFixture(store);
      for (let i = 0; i < 2; i++) {
        const challenge = await mfa.challenge(f.actor, f.account);
        const code = await emailedCode(f.actor);
        const wrong = code === '000000' ? '111111' : '000000';
        for (let j = 0; j < 5; j++)
          await mfa.verify(f.actor, f.account, { challengeId: challenge.challengeId, code: wrong }).catch(() => {});
      }
      const locked = await rejects(mfa.challenge(f.actor, f.account), 'rate_limited', /too many wrong MFA codes/);
      assert.ok(locked.retryAfterSeconds && locked.retryAfterSeconds <= MFA_LIMITS.windowSeconds);
      clock.advance(MFA_LIMITS.windowSeconds + 1);
      assert.equal((await mfa.challenge(f.actor, f.account)).method, 'email');
      await emailedCode(f.actor);
    });

    it('without an SMTP server, email MFA is an explicit error naming the setting, and nothing is issued', async () => {
      const f = await newFixture(store);
      const noSmtp = new MfaService({ store, key: randomBytes(32), email: null, now: clock.now });
      await rejects(noSmtp.challenge(f.actor, f.account), 'mfa_not_configured', /email MFA needs an SMTP server.*PORTCULLIS_SMTP_HOST/);
      await rejects(noSmtp.setPolicy(f.actor, f.projectId, 'email'), 'mfa_not_configured', /PORTCULLIS_SMTP_HOST/);
      const issued = await mfaDb(store.db).selectFrom('mfa_challenges').select('id').where('user_id', '=', f.actor.userId).execute();
      assert.equal(issued.length, 0);
      assert.equal((await noSmtp.status(f.actor)).email.available, false);
    });

    if (dialect === 'sqlite') {
      it('keeps the TOTP secret encrypted in the database file', async () => {
        const f = await newFixture(store);
        const secret = await enrollTotp(f.actor);
        const files = readdirSync(dataDir!).filter((name) => name.startsWith('portcullis.db'));
        assert.ok(files.length > 0);
        for (const name of files) assert.ok(!readFileSync(join(dataDir!, name)).includes(secret), `${name} holds the TOTP secret`);
      });
    }
  });
}
