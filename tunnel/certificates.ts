/**
 * The certificates of the inner TLS (end-to-end encryption between proxy-core and the gateway, inside each relayed
 * stream). Node can make keys but not X.509 certificates, so @peculiar/x509 builds them (it needs the Reflect
 * metadata polyfill, loaded here and nowhere else).
 *
 * Three kinds, all ECDSA P-256 / SHA-256:
 * - the gateway's own certificate: self-signed, made on the gateway machine with a key that never leaves it;
 *   the control plane learns only the certificate and vouches for its fingerprint;
 * - a project's tunnel CA: the control plane's, used only to issue session certificates;
 * - a session certificate: for a key made on the user's machine, issued by the project's tunnel CA with the
 *   session id as its subject and the session's end as its expiry.
 */
import 'reflect-metadata';
import { createPublicKey, type KeyObject, randomBytes, webcrypto } from 'node:crypto';

type CryptoKeyPair = webcrypto.CryptoKeyPair;

import * as x509 from '@peculiar/x509';
import { SESSION_SUBJECT_PREFIX } from './fingerprint';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
/** Certificates start this much before "now", so a peer whose clock is a little behind accepts them. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface PemKeyPair {
  /** PKCS#8 PEM. Secret. */
  keyPem: string;
  certificatePem: string;
}

/** A fresh gateway key pair and its self-signed certificate (10 years: the key is replaced by rotation, not by expiry). */
export async function createGatewayIdentity(name: string): Promise<PemKeyPair> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${escapeRdn(`Portcullis gateway ${name}`.slice(0, 64))}`,
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + 10 * 365 * 24 * 3600 * 1000),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { keyPem: pem('PRIVATE KEY', pkcs8), certificatePem: certificate.toString('pem') };
}

/** A project's tunnel CA certificate for `key` (an EC P-256 private key the control plane derives). */
export async function createTunnelCaCertificate(key: KeyObject, projectId: string): Promise<string> {
  const keys = await cryptoKeys(key);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    // Stable: every replica derives the same key, so any of their CA certificates anchors the same chain.
    serialNumber: '01',
    name: tunnelCaSubject(projectId),
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2125-01-01T00:00:00Z'),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  return certificate.toString('pem');
}

export interface SessionCertificateRequest {
  /** The project's tunnel CA key (what createTunnelCaCertificate was given). */
  caKey: KeyObject;
  projectId: string;
  /** The key the user's machine made for this session (DER SubjectPublicKeyInfo, EC P-256). */
  publicKey: KeyObject;
  sessionId: string;
  notAfter: Date;
  /** Default: now minus the clock skew allowance. */
  notBefore?: Date;
}

/** A client certificate for one session: subject `CN=<session id>`, valid until the session's end. */
export async function issueSessionCertificate(request: SessionCertificateRequest): Promise<string> {
  const { privateKey } = await cryptoKeys(request.caKey);
  const publicKey = await webcrypto.subtle.importKey(
    'spki',
    request.publicKey.export({ type: 'spki', format: 'der' }),
    { name: 'ECDSA', namedCurve: 'P-256' },
    true,
    ['verify'],
  );
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `${SESSION_SUBJECT_PREFIX}${escapeRdn(request.sessionId)}`,
    issuer: tunnelCaSubject(request.projectId),
    notBefore: request.notBefore ?? new Date(Date.now() - CLOCK_SKEW_MS),
    notAfter: request.notAfter,
    signingAlgorithm: ALGORITHM,
    publicKey,
    signingKey: privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
    ],
  });
  return certificate.toString('pem');
}

/**
 * The public key a client sent for its session certificate (base64 of a DER SubjectPublicKeyInfo), or an error
 * that says what is wrong with it. Only EC P-256 is accepted.
 */
export function parseSessionPublicKey(base64: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(base64, 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw new Error('tunnelPublicKey is not a DER SubjectPublicKeyInfo in base64');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('tunnelPublicKey must be an EC P-256 key');
  }
  return key;
}

function tunnelCaSubject(projectId: string): string {
  return `CN=Portcullis tunnel CA ${escapeRdn(projectId)}`;
}

async function cryptoKeys(key: KeyObject): Promise<CryptoKeyPair> {
  const jwk = key.export({ format: 'jwk' });
  const privateKey = await webcrypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']);
  const { d: _secret, ...publicJwk } = jwk;
  const publicKey = await webcrypto.subtle.importKey('jwk', publicJwk, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
  return { privateKey, publicKey } as CryptoKeyPair;
}

function serial(): string {
  // Positive (high bit clear), 16 bytes.
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  return bytes.toString('hex');
}

function escapeRdn(value: string): string {
  return value.replace(/[,+"\\<>;=]/g, (c) => `\\${c}`);
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
