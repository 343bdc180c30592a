/** Checks a PEM bundle of CA certificates: one or more certificates, each one parseable, nothing else. */
import { X509Certificate } from 'node:crypto';
import { invalid } from './service-error';

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

export function checkCaCertificate(pem: string): string {
  const blocks = pem.match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) throw invalid('caCertificate: no PEM certificate found (expected -----BEGIN CERTIFICATE----- blocks)');
  const rest = pem.replace(CERTIFICATE_BLOCK, '').trim();
  if (rest !== '') {
    // Never echo the extra text: it may be a private key pasted by mistake.
    throw invalid('caCertificate: holds something besides certificates (a private key?); give only the CA certificate(s)');
  }
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch {
      throw invalid(`caCertificate: certificate ${index + 1} of ${blocks.length} is not a valid X.509 certificate`);
    }
  });
  return `${blocks.join('\n')}\n`;
}
