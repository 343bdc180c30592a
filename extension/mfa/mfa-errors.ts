/**
 * Errors that mean "set up an authenticator app first". The server's messages for them name the CLI command, which
 * is no help in VS Code: the extension says it in its own words and offers its Set Up Authenticator App command.
 */
import { isApiError } from '../../proxy-core/api-client';

/** The error, or an error it wraps (`cause`), is the server's `mfa_not_configured`, which an authenticator app solves. */
export function needsAuthenticatorApp(error: unknown): boolean {
  return causeChain(error).some((e) => isApiError(e, 'mfa_not_configured'));
}

/** What went wrong, without the CLI hint: `account` is the escaped label of what the user tried to reach. */
export function authenticatorAppNeededText(error: unknown, account: string): string {
  const message = causeChain(error).find((e) => isApiError(e, 'mfa_not_configured'))?.message ?? '';
  // Without an SMTP server, email codes cannot be sent: an app is the way that works now.
  if (/email/i.test(message) && /smtp/i.test(message)) {
    return `${account} needs a verification code; this server cannot send codes by email (no SMTP server), so set up an authenticator app`;
  }
  return `${account} needs a code from an authenticator app, and you have not set one up`;
}

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e: unknown = error; e && chain.length < 5; e = (e as { cause?: unknown }).cause) chain.push(e);
  return chain;
}
