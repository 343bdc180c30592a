/**
 * The SMTP server the control plane sends email MFA codes through, read from the environment.
 * The password comes from PORTCULLIS_SMTP_PASSWORD or a file named by PORTCULLIS_SMTP_PASSWORD_FILE, never from argv.
 */
import { readFileSync } from 'node:fs';

export interface SmtpConfig {
  host: string;
  port: number;
  /** Implicit TLS (SMTPS, usually port 465). Without it the connection upgrades with STARTTLS when offered. */
  secure: boolean;
  user?: string;
  password?: string;
  /** The From address of the emails. */
  from: string;
  /** Extra CA certificate(s), PEM, for a relay with a private certificate authority. */
  caCertificate?: string;
}

export const SMTP_ENV = Object.freeze({
  host: 'PORTCULLIS_SMTP_HOST',
  port: 'PORTCULLIS_SMTP_PORT',
  secure: 'PORTCULLIS_SMTP_SECURE',
  user: 'PORTCULLIS_SMTP_USER',
  password: 'PORTCULLIS_SMTP_PASSWORD',
  passwordFile: 'PORTCULLIS_SMTP_PASSWORD_FILE',
  from: 'PORTCULLIS_SMTP_FROM',
  caFile: 'PORTCULLIS_SMTP_CA_FILE',
} as const);

/** `null` when PORTCULLIS_SMTP_HOST is not set: email MFA is then unavailable (and says so), never skipped. */
export function loadSmtpConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SmtpConfig | null {
  const host = env[SMTP_ENV.host]?.trim();
  if (!host) return null;
  const secure = parseBoolean(env[SMTP_ENV.secure], SMTP_ENV.secure);
  const portText = env[SMTP_ENV.port]?.trim();
  const port = portText ? Number(portText) : secure ? 465 : 587;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${SMTP_ENV.port} must be a port number from 1 to 65535, got "${portText}"`);
  }
  const from = env[SMTP_ENV.from]?.trim();
  if (!from) throw new Error(`${SMTP_ENV.from} must be set when ${SMTP_ENV.host} is: the address MFA emails come from`);
  const user = env[SMTP_ENV.user]?.trim() || undefined;
  let password = env[SMTP_ENV.password] || undefined;
  const passwordFile = env[SMTP_ENV.passwordFile]?.trim();
  if (passwordFile) {
    if (password) throw new Error(`set ${SMTP_ENV.password} or ${SMTP_ENV.passwordFile}, not both`);
    try {
      password = readFileSync(passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new Error(`cannot read ${SMTP_ENV.passwordFile} (${passwordFile}): ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  if (password && !user) throw new Error(`${SMTP_ENV.user} must be set when an SMTP password is`);
  const caFile = env[SMTP_ENV.caFile]?.trim();
  let caCertificate: string | undefined;
  if (caFile) {
    try {
      caCertificate = readFileSync(caFile, 'utf8');
    } catch (error) {
      throw new Error(`cannot read ${SMTP_ENV.caFile} (${caFile}): ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  return { host, port, secure, user, password, from, caCertificate };
}

function parseBoolean(raw: string | undefined, name: string): boolean {
  const value = raw?.trim().toLowerCase();
  if (!value) return false;
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new Error(`${name} must be true or false, got "${raw}"`);
}
