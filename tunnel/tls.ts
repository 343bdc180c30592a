/**
 * The inner TLS of a relayed stream: proxy-core is the TLS client, the gateway the TLS server, and the control
 * plane's relay between them forwards records it cannot read or alter. TLS 1.3 only. Each side pins what the
 * control plane vouched for when the session started: proxy-core the gateway certificate's fingerprint, the
 * gateway the session certificate's fingerprint (and its issuer, subject and expiry, which OpenSSL checks).
 */

import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { sessionIdOfCertificate } from './fingerprint';

/** A stream refused by the inner TLS: the peer is not who the control plane vouched for, or the handshake failed. */
export class TunnelRefused extends Error {
  constructor(
    readonly code: 'gateway_certificate_mismatch' | 'session_certificate_mismatch' | 'handshake_failed' | 'handshake_timeout',
    message: string,
  ) {
    super(message);
    this.name = 'TunnelRefused';
  }
}

/** Application protocol named in the handshake, so that a TLS endpoint of something else does not pass for a gateway. */
export const TUNNEL_ALPN = 'portcullis-mongodb/1';
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface TunnelClientOptions {
  /** The session key (PKCS#8 PEM), made on this machine; never sent anywhere. */
  keyPem: string;
  /** The session certificate the control plane issued for it. */
  certificatePem: string;
  /** The fingerprint of the gateway certificate the control plane vouched for at session start. */
  gatewayFingerprint: string;
  handshakeTimeoutMs?: number;
}

/** proxy-core's side: resolves with the encrypted socket once the gateway proved the pinned certificate. */
export function connectTunnel(socket: Duplex, options: TunnelClientOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tlsConnect({
      socket,
      key: options.keyPem,
      cert: options.certificatePem,
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      ALPNProtocols: [TUNNEL_ALPN],
      // The gateway's certificate is self-signed: it is checked against the pinned fingerprint below instead of a CA.
      rejectUnauthorized: false,
    });
    settleHandshake(secure, 'secureConnect', options.handshakeTimeoutMs, resolve, reject, () => {
      const peer = secure.getPeerX509Certificate();
      if (!peer || peer.fingerprint256 !== options.gatewayFingerprint) {
        return new TunnelRefused(
          'gateway_certificate_mismatch',
          `the gateway's certificate is not the one the control plane vouched for when this session started (expected ${options.gatewayFingerprint}, got ${peer?.fingerprint256 ?? 'none'}): something between you and the gateway is intercepting the connection, or an admin rotated the gateway's key since (then start a new session)`,
        );
      }
      if (secure.alpnProtocol !== TUNNEL_ALPN) {
        return new TunnelRefused('handshake_failed', 'the other end of the tunnel is not a Portcullis gateway (no tunnel protocol agreed)');
      }
      return undefined;
    });
  });
}

/**
 * How one end turns a relayed stream into the session's byte stream. The product always uses connectTunnel and
 * acceptTunnel; the types exist so that the benchmark can measure what the inner TLS costs against a path without it
 * (bench/children/plain-tunnel.ts). Neither the CLI, the extension nor the control plane can choose another.
 */
export type TunnelConnector = (socket: Duplex, options: TunnelClientOptions) => Promise<Duplex>;
export type TunnelAcceptor = (socket: Duplex, options: TunnelServerOptions) => Promise<Duplex>;

export interface TunnelServerOptions {
  /** The gateway's own key (PKCS#8 PEM) and self-signed certificate. */
  keyPem: string;
  certificatePem: string;
  /** The project's tunnel CA, which issued the session certificate. */
  clientCaPem: string;
  /** The fingerprint of the session certificate the control plane vouched for. */
  clientFingerprint: string;
  sessionId: string;
  handshakeTimeoutMs?: number;
}

/**
 * The gateway's side: resolves with the encrypted socket once the client proved this session's certificate.
 * The handshake runs in a tls.Server the stream is handed to (its documented way to serve any Duplex), because only
 * the server's path tells whether the client's certificate verified, and why not.
 */
export function acceptTunnel(socket: Duplex, options: TunnelServerOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const server = createTlsServer({
      key: options.keyPem,
      cert: options.certificatePem,
      ca: options.clientCaPem,
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      requestCert: true,
      // Checked below (chain to the session CA, validity, pinned fingerprint, subject), with a reason for the log.
      rejectUnauthorized: false,
      ALPNProtocols: [TUNNEL_ALPN],
    });
    let settled = false;
    const timer = setTimeout(
      () => fail(new TunnelRefused('handshake_timeout', 'the encrypted tunnel handshake did not finish in time')),
      options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    );
    timer.unref();
    function fail(error: Error): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    }
    server.on('tlsClientError', (error: Error & { code?: string }) => fail(new TunnelRefused('handshake_failed', describeTlsError(error))));
    socket.once('close', () => fail(new TunnelRefused('handshake_failed', 'the connection closed during the encrypted tunnel handshake')));
    server.on('secureConnection', (secure: TLSSocket) => {
      if (settled) {
        secure.destroy();
        return;
      }
      const peer = secure.getPeerX509Certificate();
      let refusal: TunnelRefused | undefined;
      if (!secure.authorized || !peer) {
        const why = secure.authorizationError as unknown as string | undefined;
        refusal = new TunnelRefused(
          'session_certificate_mismatch',
          why === 'CERT_HAS_EXPIRED'
            ? "the client's session certificate has expired"
            : `the client presented no valid session certificate (${why ?? 'none'})`,
        );
      } else if (peer.fingerprint256 !== options.clientFingerprint || sessionIdOfCertificate(peer) !== options.sessionId) {
        refusal = new TunnelRefused(
          'session_certificate_mismatch',
          `the client's certificate (${peer.subject.trim()}, ${peer.fingerprint256}) is not the one issued for session ${options.sessionId} (${options.clientFingerprint})`,
        );
      }
      if (refusal) {
        secure.destroy();
        fail(refusal);
        return;
      }
      settled = true;
      clearTimeout(timer);
      secure.setNoDelay?.(true);
      resolve(secure);
    });
    server.emit('connection', socket);
  });
}

function settleHandshake(
  secure: TLSSocket,
  event: 'secure' | 'secureConnect',
  timeoutMs: number | undefined,
  resolve: (socket: TLSSocket) => void,
  reject: (error: Error) => void,
  check: () => TunnelRefused | undefined,
): void {
  let settled = false;
  const fail = (error: Error) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    secure.destroy();
    reject(error);
  };
  const timer = setTimeout(
    () => fail(new TunnelRefused('handshake_timeout', 'the encrypted tunnel handshake did not finish in time')),
    timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
  );
  timer.unref();
  const onError = (error: Error & { code?: string }) =>
    fail(error instanceof TunnelRefused ? error : new TunnelRefused('handshake_failed', describeTlsError(error)));
  const onClose = () => fail(new TunnelRefused('handshake_failed', 'the connection closed during the encrypted tunnel handshake'));
  secure.on('error', onError);
  secure.once('close', onClose);
  secure.once(event, () => {
    const refusal = check();
    if (refusal) {
      fail(refusal);
      return;
    }
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    // From here on the caller listens to the socket's errors and its close.
    secure.off('error', onError);
    secure.off('close', onClose);
    secure.setNoDelay?.(true);
    resolve(secure);
  });
}

/** What a TLS failure means for a user, from OpenSSL's code. */
export function describeTlsError(error: Error & { code?: string }): string {
  switch (error.code) {
    case 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED':
    case 'CERT_HAS_EXPIRED':
      return "the session's certificate has expired: start a new session";
    case 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA':
    case 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      return `the gateway refused this session's certificate (${error.code})`;
    case 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED':
    case 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE':
      return 'the client presented no session certificate';
    case 'ERR_SSL_UNSUPPORTED_PROTOCOL':
    case 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION':
      return 'the other end does not speak TLS 1.3';
    default:
      return `the encrypted tunnel handshake failed (${error.code ?? error.message})`;
  }
}
