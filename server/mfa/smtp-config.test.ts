import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeTempDir, trackTempDir } from '../../test/bed/processes';
import { type SmtpTestServer, startSmtpServer } from '../../test/bed/smtp';
import { createEmailSender } from './email-sender';
import { loadSmtpConfigFromEnv } from './smtp-config';

describe('SMTP settings from the environment', () => {
  let dir: string;
  let smtp: SmtpTestServer;
  before(async () => {
    dir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-smtp-')));
    smtp = await startSmtpServer({ auth: { user: 'mailer', pass: 'smtp-secret-pw' } });
  });
  after(async () => {
    await smtp?.stop();
    removeTempDir(dir);
  });

  it('is off when PORTCULLIS_SMTP_HOST is not set', () => {
    assert.equal(loadSmtpConfigFromEnv({}), null);
  });

  it('reads the password from a file and authenticates to a real SMTP server with it', async () => {
    const passwordFile = join(dir, 'smtp-password');
    writeFileSync(passwordFile, 'smtp-secret-pw\n', { mode: 0o600 });
    const config = loadSmtpConfigFromEnv({
      PORTCULLIS_SMTP_HOST: smtp.host,
      PORTCULLIS_SMTP_PORT: String(smtp.port),
      PORTCULLIS_SMTP_USER: 'mailer',
      PORTCULLIS_SMTP_PASSWORD_FILE: passwordFile,
      PORTCULLIS_SMTP_FROM: 'Portcullis <no-reply@example.com>',
    });
    assert.ok(config);
    assert.equal(config.password, 'smtp-secret-pw');
    assert.equal(config.secure, false);
    const sender = createEmailSender(config);
    try {
      await sender.sendCode({ to: 'ann@example.com', code: '123456', expiresAt: new Date(Date.now() + 300_000), accessLabel: 'db / ro' });
    } finally {
      sender.close();
    }
    const message = await smtp.waitForMessage((m) => m.to.includes('ann@example.com'));
    assert.equal(message.authenticatedAs, 'mailer');
    assert.match(message.subject, /123456/);
    assert.match(message.text, /123456[\s\S]*db \/ ro/);
  });

  it('refuses a wrong SMTP password with an error that does not contain it', async () => {
    const sender = createEmailSender({
      host: smtp.host,
      port: smtp.port,
      secure: false,
      user: 'mailer',
      password: 'not-it-pw',
      from: 'x@example.com',
    });
    try {
      await assert.rejects(
        sender.sendCode({ to: 'bob@example.com', code: '123456', expiresAt: new Date(), accessLabel: 'x' }),
        (error: Error) => !error.message.includes('not-it-pw') && /auth|Invalid/i.test(error.message),
      );
    } finally {
      sender.close();
    }
  });

  it('explains missing or malformed settings', () => {
    assert.throws(() => loadSmtpConfigFromEnv({ PORTCULLIS_SMTP_HOST: 'mail' }), /PORTCULLIS_SMTP_FROM must be set/);
    assert.throws(
      () => loadSmtpConfigFromEnv({ PORTCULLIS_SMTP_HOST: 'mail', PORTCULLIS_SMTP_FROM: 'a@b', PORTCULLIS_SMTP_PORT: 'x' }),
      /PORTCULLIS_SMTP_PORT must be a port number/,
    );
    assert.throws(
      () => loadSmtpConfigFromEnv({ PORTCULLIS_SMTP_HOST: 'mail', PORTCULLIS_SMTP_FROM: 'a@b', PORTCULLIS_SMTP_SECURE: 'maybe' }),
      /PORTCULLIS_SMTP_SECURE must be true or false/,
    );
    assert.throws(
      () =>
        loadSmtpConfigFromEnv({
          PORTCULLIS_SMTP_HOST: 'mail',
          PORTCULLIS_SMTP_FROM: 'a@b',
          PORTCULLIS_SMTP_PASSWORD_FILE: join(dir, 'nope'),
        }),
      (error: Error) => /cannot read PORTCULLIS_SMTP_PASSWORD_FILE.*ENOENT/.test(error.message),
    );
    assert.equal(
      loadSmtpConfigFromEnv({ PORTCULLIS_SMTP_HOST: 'mail', PORTCULLIS_SMTP_FROM: 'a@b', PORTCULLIS_SMTP_SECURE: 'true' })?.port,
      465,
    );
  });
});
