/**
 * The one shape of a Portcullis log line, from the control plane and the gateway alike: one JSON object per line
 * with `time` (ISO 8601, UTC), `level`, `component`, `sessionId` (null when the event is about no session) and
 * `msg`; other fields may follow. Secrets are redacted before a line is written (`redactSecrets`).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogComponent = 'control-plane' | 'gateway';

export interface LogLine {
  time: string;
  level: LogLevel;
  component: LogComponent;
  sessionId: string | null;
  msg: string;
  [field: string]: unknown;
}

/** Portcullis' own bearer secrets: sign-in tokens, enrollment tokens, gateway credentials (server/auth/secret-tokens.ts). */
const OWN_SECRET = /\bpc[ueg]_[A-Za-z0-9_-]{16,}/g;
/** The password of a MongoDB connection string (`mongodb://user:PASSWORD@host`). */
const URI_PASSWORD = /(mongodb(?:\+srv)?:\/\/[^:/?#@\s]*:)[^@\s]*@/gi;
/** An Authorization header's value quoted in a message. */
const AUTHORIZATION = /\b(Bearer|Ticket|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g;

/** Replaces what looks like a secret in a text with `[redacted]`. */
export function redactSecrets(text: string): string {
  return text.replace(OWN_SECRET, '[redacted]').replace(URI_PASSWORD, '$1[redacted]@').replace(AUTHORIZATION, '$1 [redacted]');
}

/** One log line as JSON text (no newline), with its message redacted. */
export function formatLogLine(
  component: LogComponent,
  level: LogLevel,
  msg: string,
  fields: { sessionId?: string } & Record<string, unknown> = {},
  now: Date = new Date(),
): string {
  const { sessionId, ...rest } = fields;
  const line: LogLine = { time: now.toISOString(), level, component, sessionId: sessionId ?? null, msg: redactSecrets(msg), ...rest };
  return JSON.stringify(line);
}
