/**
 * Reading certificates of the inner TLS without the certificate-making library (tunnel/certificates.ts), so that
 * the clients, which only read them, do not load it.
 */
import { X509Certificate } from 'node:crypto';

/** The subject of a session certificate is this prefix and the session id. */
export const SESSION_SUBJECT_PREFIX = 'CN=';

/** SHA-256 fingerprint of a certificate, as OpenSSL prints it (`AB:CD:…`). */
export function certificateFingerprint(certificatePem: string): string {
  return new X509Certificate(certificatePem).fingerprint256;
}

/** The session id a session certificate was issued for. */
export function sessionIdOfCertificate(certificate: X509Certificate): string | undefined {
  const match = /^CN=(ses_[A-Za-z0-9_-]+)$/.exec(certificate.subject.trim());
  return match?.[1];
}
