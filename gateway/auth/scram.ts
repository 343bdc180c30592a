import { createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import saslprep from '@mongodb-js/saslprep';

/**
 * SCRAM client conversation (RFC 5802 for SHA-1, RFC 7677 for SHA-256) as MongoDB speaks it. No I/O: the
 * caller carries the payloads in saslStart/saslContinue. Every step is a small pure helper so that the RFC
 * test vectors can check each one.
 */

export const SCRAM_MECHANISMS = Object.freeze({ sha1: 'SCRAM-SHA-1', sha256: 'SCRAM-SHA-256' } as const);
export type ScramMechanism = (typeof SCRAM_MECHANISMS)[keyof typeof SCRAM_MECHANISMS];

/** RFC 7677 asks for at least 4096; MongoDB drivers refuse fewer too, so a server cannot weaken the hash. */
export const MIN_SCRAM_ITERATIONS = 4096;

/** A SCRAM step failed: a malformed server message, a refused proof, or a server that could not prove itself. */
export class ScramError extends Error {
  override name = 'ScramError';
}

function hashName(mechanism: ScramMechanism): 'sha1' | 'sha256' {
  return mechanism === SCRAM_MECHANISMS.sha1 ? 'sha1' : 'sha256';
}

function hashLength(mechanism: ScramMechanism): number {
  return mechanism === SCRAM_MECHANISMS.sha1 ? 20 : 32;
}

/** RFC 5802 5.1: "=" and "," in a username are sent as "=3D" and "=2C". */
export function escapeUsername(username: string): string {
  return username.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** 24 random bytes, base64: printable and free of ",", as the RFC requires of a nonce. */
export function makeClientNonce(): string {
  return randomBytes(24).toString('base64');
}

/** client-first-message-bare: `n=<user>,r=<nonce>`. */
export function clientFirstMessageBare(username: string, clientNonce: string): string {
  return `n=${escapeUsername(username)},r=${clientNonce}`;
}

/** The GS2 header for "no channel binding, no authzid", and its base64 form used in `c=`. */
export const GS2_HEADER = 'n,,';
const GS2_HEADER_BASE64 = Buffer.from(GS2_HEADER).toString('base64');

/** Parses `k=v,k=v` into a map; values may contain "=" (base64 padding). */
export function parseScramPayload(payload: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of payload.split(',')) {
    const eq = part.indexOf('=');
    if (eq !== 1) throw new ScramError(`the server sent a malformed SCRAM message (field "${part.slice(0, 20)}")`);
    fields.set(part[0], part.slice(2));
  }
  return fields;
}

export interface ServerFirst {
  nonce: string;
  salt: Buffer;
  iterations: number;
}

/** Checks server-first-message: the nonce must extend ours, salt and iteration count must be sane. */
export function parseServerFirst(message: string, clientNonce: string): ServerFirst {
  const fields = parseScramPayload(message);
  const error = fields.get('e');
  if (error !== undefined) throw new ScramError(`the server refused the SCRAM exchange: ${error}`);
  const nonce = fields.get('r');
  const salt = fields.get('s');
  const iterationsText = fields.get('i');
  if (!nonce || salt === undefined || !iterationsText) throw new ScramError('the server-first SCRAM message lacks r, s or i');
  if (!nonce.startsWith(clientNonce) || nonce.length === clientNonce.length) {
    throw new ScramError('the server nonce does not extend the client nonce');
  }
  const iterations = Number(iterationsText);
  if (!Number.isInteger(iterations) || iterations < MIN_SCRAM_ITERATIONS) {
    throw new ScramError(`the server asked for ${iterationsText} SCRAM iterations; at least ${MIN_SCRAM_ITERATIONS} are required`);
  }
  return { nonce, salt: Buffer.from(salt, 'base64'), iterations };
}

/**
 * The password as it enters the key derivation. SHA-256: SASLprep (RFC 4013). SHA-1: MongoDB's historical
 * md5(user:mongo:password) hex digest, without SASLprep (the server stored it that way).
 */
export function preparePassword(mechanism: ScramMechanism, username: string, password: string): string {
  if (mechanism === SCRAM_MECHANISMS.sha1) {
    return createHash('md5').update(`${username}:mongo:${password}`, 'utf8').digest('hex');
  }
  return saslprep(password);
}

/** Hi(password, salt, i) of RFC 5802: PBKDF2 with the mechanism's HMAC. */
export function saltedPassword(mechanism: ScramMechanism, preparedPassword: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(preparedPassword, salt, iterations, hashLength(mechanism), hashName(mechanism));
}

/**
 * Salted passwords already derived, as drivers keep them: every client connection authenticates anew, and
 * PBKDF2 at 15,000 rounds is the costliest step. Keyed by a hash of the inputs, so the map holds no password;
 * the values are password-equivalent and live only in this process's memory, like the password itself.
 */
const saltedCache = new Map<string, Buffer>();
const SALTED_CACHE_MAX = 256;

/** Hi() off the event loop (libuv thread pool) and cached, so authenticating never stalls other connections. */
export async function saltedPasswordCached(
  mechanism: ScramMechanism,
  preparedPassword: string,
  salt: Buffer,
  iterations: number,
): Promise<Buffer> {
  const key = createHash('sha256')
    .update(`${mechanism}\0${iterations}\0${salt.toString('base64')}\0`)
    .update(preparedPassword, 'utf8')
    .digest('base64');
  const cached = saltedCache.get(key);
  if (cached) return cached;
  const salted = await new Promise<Buffer>((resolve, reject) =>
    pbkdf2(preparedPassword, salt, iterations, hashLength(mechanism), hashName(mechanism), (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
  if (saltedCache.size >= SALTED_CACHE_MAX) saltedCache.delete(saltedCache.keys().next().value as string);
  saltedCache.set(key, salted);
  return salted;
}

function hmac(mechanism: ScramMechanism, key: Buffer, data: string): Buffer {
  return createHmac(hashName(mechanism), key).update(data, 'utf8').digest();
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

/** client-final-message-without-proof: `c=biws,r=<server nonce>`. */
export function clientFinalWithoutProof(serverNonce: string): string {
  return `c=${GS2_HEADER_BASE64},r=${serverNonce}`;
}

/** AuthMessage = client-first-bare "," server-first "," client-final-without-proof. */
export function authMessage(clientFirstBare: string, serverFirstMessage: string, clientFinalNoProof: string): string {
  return `${clientFirstBare},${serverFirstMessage},${clientFinalNoProof}`;
}

/** ClientProof = ClientKey XOR HMAC(H(ClientKey), AuthMessage). */
export function clientProof(mechanism: ScramMechanism, salted: Buffer, message: string): Buffer {
  const clientKey = hmac(mechanism, salted, 'Client Key');
  const storedKey = createHash(hashName(mechanism)).update(clientKey).digest();
  return xor(clientKey, hmac(mechanism, storedKey, message));
}

/** ServerSignature = HMAC(HMAC(SaltedPassword, "Server Key"), AuthMessage). */
export function serverSignature(mechanism: ScramMechanism, salted: Buffer, message: string): Buffer {
  return hmac(mechanism, hmac(mechanism, salted, 'Server Key'), message);
}

/** Checks server-final-message `v=<signature>` in constant time; throws when the server could not prove itself. */
export function verifyServerFinal(serverFinalMessage: string, expected: Buffer): void {
  const fields = parseScramPayload(serverFinalMessage);
  const error = fields.get('e');
  if (error !== undefined) throw new ScramError(`the server rejected the SCRAM proof: ${error}`);
  const signature = fields.get('v');
  if (signature === undefined) throw new ScramError('the server-final SCRAM message lacks its signature');
  const actual = Buffer.from(signature, 'base64');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new ScramError('the server signature is wrong: the server does not know this account (or is not the real server)');
  }
}

/**
 * One client conversation: `first()` → server-first → `final(serverFirst)` → server-final → `verify(serverFinal)`.
 * The password is kept only inside this object, as long as the conversation lives.
 */
export class ScramClient {
  private readonly clientFirstBare: string;
  private expectedServerSignature?: Buffer;

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly username: string,
    private readonly password: string,
    private readonly clientNonce: string = makeClientNonce(),
  ) {
    this.clientFirstBare = clientFirstMessageBare(username, clientNonce);
  }

  /** client-first-message, with its GS2 header. */
  first(): string {
    return GS2_HEADER + this.clientFirstBare;
  }

  /** client-final-message for the server's first message. */
  async final(serverFirstMessage: string): Promise<string> {
    const { nonce, salt, iterations } = parseServerFirst(serverFirstMessage, this.clientNonce);
    const salted = await saltedPasswordCached(
      this.mechanism,
      preparePassword(this.mechanism, this.username, this.password),
      salt,
      iterations,
    );
    const withoutProof = clientFinalWithoutProof(nonce);
    const message = authMessage(this.clientFirstBare, serverFirstMessage, withoutProof);
    this.expectedServerSignature = serverSignature(this.mechanism, salted, message);
    return `${withoutProof},p=${clientProof(this.mechanism, salted, message).toString('base64')}`;
  }

  /** Verifies the server's final message; throws ScramError when the signature is missing or wrong. */
  verify(serverFinalMessage: string): void {
    if (!this.expectedServerSignature) throw new ScramError('SCRAM verify() called before final()');
    verifyServerFinal(serverFinalMessage, this.expectedServerSignature);
  }
}
