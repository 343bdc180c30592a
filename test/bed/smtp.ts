import { readFileSync } from 'node:fs';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { freePort } from './ports';

/** One message the server accepted, with the headers tests look at and the decoded plain-text body. */
export interface ReceivedMessage {
  /** Envelope recipients (RCPT TO), lower-cased. */
  to: string[];
  /** Envelope sender (MAIL FROM). */
  from: string;
  subject: string;
  text: string;
  /** The whole message as received (headers and encoded body). */
  raw: string;
  /** The user the client authenticated as, when the server required authentication. */
  authenticatedAs?: string;
}

export interface SmtpTestServer {
  host: string;
  port: number;
  messages: ReceivedMessage[];
  /** Resolves with the first message (already received or arriving later) that matches, or rejects after timeoutMs. */
  waitForMessage(predicate?: (message: ReceivedMessage) => boolean, timeoutMs?: number): Promise<ReceivedMessage>;
  stop(): Promise<void>;
}

export interface SmtpTestServerOptions {
  /** Require AUTH PLAIN/LOGIN with this user and password; otherwise authentication is not offered. */
  auth?: { user: string; pass: string };
  /** Implicit TLS (SMTPS) with this certificate; otherwise plain SMTP without STARTTLS. */
  tls?: { certFile: string; keyFile: string };
}

/**
 * A real SMTP server (the npm `smtp-server` package) on a free loopback port, collecting every message it accepts.
 * Plain SMTP does not offer STARTTLS, so a client that upgrades opportunistically does not trip over a test certificate.
 */
export async function startSmtpServer(options: SmtpTestServerOptions = {}): Promise<SmtpTestServer> {
  const messages: ReceivedMessage[] = [];
  const waiters = new Set<(message: ReceivedMessage) => void>();
  const serverOptions: SMTPServerOptions = {
    secure: options.tls !== undefined,
    disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: options.auth === undefined,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) {
        callback(null, { user: auth.username });
      } else {
        callback(new Error('Invalid username or password'));
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const message: ReceivedMessage = {
          ...parseMessage(raw),
          raw,
          to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          authenticatedAs: typeof session.user === 'string' ? session.user : undefined,
        };
        messages.push(message);
        for (const waiter of [...waiters]) waiter(message);
        callback();
      });
    },
  };
  if (options.tls) {
    serverOptions.key = readFileSync(options.tls.keyFile);
    serverOptions.cert = readFileSync(options.tls.certFile);
  }
  const server = new SMTPServer(serverOptions);
  const host = '127.0.0.1';
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });

  return {
    host,
    port,
    messages,
    waitForMessage(predicate = () => true, timeoutMs = 10_000) {
      const found = messages.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching message arrived at the test SMTP server within ${timeoutMs} ms (${messages.length} received)`));
        }, timeoutMs);
        const waiter = (message: ReceivedMessage) => {
          if (!predicate(message)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(message);
        };
        waiters.add(waiter);
      });
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Splits a received RFC 5322 message into the subject and a decoded text body (single-part or the text/plain part). */
export function parseMessage(raw: string): { subject: string; text: string } {
  const { headers, body } = splitHeaders(raw);
  const subject = decodeEncodedWords(headers.get('subject') ?? '');
  const contentType = headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (/^multipart\//i.test(contentType) && boundary) {
    for (const part of body.split(`--${boundary}`)) {
      const parsed = splitHeaders(part.replace(/^\r?\n/, ''));
      if (/^text\/plain/i.test(parsed.headers.get('content-type') ?? '')) {
        return { subject, text: decodeBody(parsed.body, parsed.headers.get('content-transfer-encoding')) };
      }
    }
    return { subject, text: '' };
  }
  return { subject, text: decodeBody(body, headers.get('content-transfer-encoding')) };
}

function splitHeaders(raw: string): { headers: Map<string, string>; body: string } {
  const end = raw.search(/\r?\n\r?\n/);
  const head = end === -1 ? raw : raw.slice(0, end);
  const body = end === -1 ? '' : raw.slice(end).replace(/^\r?\n\r?\n/, '');
  const headers = new Map<string, string>();
  // Folded header lines continue with whitespace.
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function decodeBody(body: string, encoding: string | undefined): string {
  switch ((encoding ?? '7bit').toLowerCase()) {
    case 'quoted-printable':
      return Buffer.from(
        body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
        'latin1',
      ).toString('utf8');
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    default:
      return body;
  }
}

// RFC 2047 encoded words (=?UTF-8?Q?...?= / =?UTF-8?B?...?=), which nodemailer uses for non-ASCII subjects.
function decodeEncodedWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QB])\?([^?]*)\?=/gi, (_, _charset: string, kind: string, text: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(
            text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
            'latin1',
          ).toString('utf8'),
    );
}
