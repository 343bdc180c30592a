import { isIP } from 'node:net';
import { type ConnectionOptions, rootCertificates } from 'node:tls';
import type { MongoTarget } from '../../protocol/target';
import type { ParsedConnectionString } from './connection-string';

/**
 * Whether to use TLS: an explicit `tls`/`ssl` in the connection string wins; otherwise `mongodb+srv://`
 * turns it on (as drivers do) and a plain string follows the target's setting (on by default).
 */
export function tlsWanted(target: MongoTarget, parsed: ParsedConnectionString): boolean {
  if (parsed.tls !== undefined) return parsed.tls;
  return parsed.srvName !== undefined || target.tls.enabled;
}

/**
 * TLS options for one upstream host: verification as the target says (on by default), an extra CA added to
 * Node's default roots rather than replacing them, and SNI/hostname check against the host being connected.
 */
export function tlsOptionsFor(target: MongoTarget, host: string): ConnectionOptions {
  const options: ConnectionOptions = {
    rejectUnauthorized: target.tls.rejectUnauthorized,
    // Only ALPN-free, plain TLS: MongoDB does not negotiate protocols.
    minVersion: 'TLSv1.2',
  };
  if (target.tls.caCertificate) options.ca = [...rootCertificates, target.tls.caCertificate];
  // SNI must not carry an IP address (RFC 6066); Node still checks an IP against the certificate's IP SANs.
  if (!isIP(host)) options.servername = host;
  return options;
}
