/**
 * Bench child: a gateway whose streams go to a TCP echo server instead of MongoDB, for the raw tunnel figure (the
 * relay's cost with MongoDB and the engine left out). It enrolls with the one-time token in BENCH_ENROLLMENT_TOKEN
 * (not argv; here, so that it reaches an HTTPS control plane with the CA its environment trusts), then uses the
 * real gateway pieces (ControlChannel, openDataStream and the inner TLS, as gateway/agent/agent.ts does) and pipes
 * each decrypted data stream to a new connection to the echo server at BENCH_ECHO_PORT.
 */
import { connect } from 'node:net';
import { ControlChannel } from '../../gateway/agent/control-channel';
import { openDataStream } from '../../gateway/agent/data-stream';
import { enrollGateway } from '../../gateway/agent/enroll';
import type { SessionTunnelPins } from '../../protocol/gateway-channel';
import { createGatewayIdentity, type PemKeyPair } from '../../tunnel/certificates';
import { acceptTunnel } from '../../tunnel/tls';

const server = required('BENCH_SERVER');
const enrollmentToken = required('BENCH_ENROLLMENT_TOKEN');
const echoPort = Number(required('BENCH_ECHO_PORT'));
const name = 'bench-echo';
/** Each session's pins, asked for once over the channel (the credentials message brings them). */
const pins = new Map<string, Promise<SessionTunnelPins>>();
const waiting = new Map<string, (pins: SessionTunnelPins) => void>();

async function main(): Promise<void> {
  const { credential } = await enrollGateway({ server, token: enrollmentToken, name });
  const identity = await createGatewayIdentity(name);
  const channel = new ControlChannel({
    server,
    credential,
    name,
    version: 'bench',
    tunnelCertificate: identity.certificatePem,
    log: (level, message) => process.stderr.write(`echo gateway ${level}: ${message}\n`),
  });
  channel.on('status', (status) => {
    if (status === 'online') process.stdout.write(`${JSON.stringify({ status })}\n`);
  });
  channel.on('message', (message) => {
    if (message.type === 'stream.open') {
      let sessionPins = pins.get(message.sessionId);
      if (!sessionPins) {
        sessionPins = new Promise((resolve) => waiting.set(message.sessionId, resolve));
        pins.set(message.sessionId, sessionPins);
        channel.send({ type: 'credentials.request', requestId: `cr_${message.sessionId}`, sessionId: message.sessionId });
      }
      openStream(credential, identity, message.streamId, message.sessionId, sessionPins);
    } else if (message.type === 'credentials' && message.tunnel) {
      waiting.get(message.sessionId)?.(message.tunnel);
    }
  });
  channel.start();
  process.once('SIGTERM', () => {
    channel.stop();
    process.exit(0);
  });
}

function openStream(
  credential: string,
  identity: PemKeyPair,
  streamId: string,
  sessionId: string,
  sessionPins: Promise<SessionTunnelPins>,
): void {
  Promise.all([openDataStream({ server, credential, streamId }), sessionPins])
    .then(([raw, tunnel]) =>
      acceptTunnel(raw, {
        keyPem: identity.keyPem,
        certificatePem: identity.certificatePem,
        clientCaPem: tunnel.clientCa,
        clientFingerprint: tunnel.clientFingerprint,
        sessionId,
      }),
    )
    .then(
      (stream) => {
        const echo = connect({ port: echoPort, host: '127.0.0.1', noDelay: true });
        echo.on('error', () => stream.destroy());
        stream.on('error', () => echo.destroy());
        stream.pipe(echo).pipe(stream);
      },
      (error: Error) => process.stderr.write(`echo gateway stream ${streamId}: ${error.message}\n`),
    );
}

function required(variable: string): string {
  const value = process.env[variable];
  if (!value) throw new Error(`${variable} is not set (this program is started by bench/run.ts)`);
  return value;
}

main().catch((error) => {
  process.stderr.write(`the echo gateway did not start: ${(error as Error).message}\n`);
  process.exit(1);
});
