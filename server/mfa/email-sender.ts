/** Sends email MFA codes through the configured SMTP server (nodemailer). */
import nodemailer from 'nodemailer';
import type { SmtpConfig } from './smtp-config';

export interface MfaCodeEmail {
  to: string;
  code: string;
  expiresAt: Date;
  /** What the code unlocks, e.g. `orders-db / readonly`. */
  accessLabel: string;
}

/** Any other message (access requests and their decisions). */
export interface NoticeEmail {
  to: string[];
  subject: string;
  text: string;
}

export interface EmailSender {
  sendCode(email: MfaCodeEmail): Promise<void>;
  sendNotice(email: NoticeEmail): Promise<void>;
  close(): void;
}

export function createEmailSender(config: SmtpConfig): EmailSender {
  const transport = nodemailer.createTransport({
    host: config.host,
    port: config.port,
    secure: config.secure,
    auth: config.user ? { user: config.user, pass: config.password ?? '' } : undefined,
    tls: config.caCertificate ? { ca: config.caCertificate } : undefined,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  return {
    async sendCode({ to, code, expiresAt, accessLabel }) {
      const minutes = Math.max(1, Math.round((expiresAt.getTime() - Date.now()) / 60_000));
      await transport.sendMail({
        from: config.from,
        to,
        subject: `Portcullis verification code: ${code}`,
        text:
          `Your Portcullis verification code is ${code}\n\n` +
          `It unlocks access to ${accessLabel} and expires in ${minutes} minutes (${expiresAt.toISOString()}).\n` +
          'If you did not ask for access, someone may be using your Portcullis sign-in: tell your administrator.\n',
      });
    },
    async sendNotice({ to, subject, text }) {
      await transport.sendMail({ from: config.from, to, subject, text });
    },
    close: () => transport.close(),
  };
}
