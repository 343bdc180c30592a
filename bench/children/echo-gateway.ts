/**
 * Bench child: a gateway whose streams go to a TCP echo server instead of MongoDB, for the raw tunnel figure (the
 * relay's cost with MongoDB and the engine left out). It enrolls with the one-time token in BENCH_ENROLLMENT_TOKEN
 * (not argv; here, so that it reaches an HTTPS control plane with the CA its environment trusts), then uses the
 * real gateway pieces (ControlChannel and openDataStream, as gateway/agent/agent.ts does) and pipes each data
 * stream to a new connection to the echo server at BENCH_ECHO_PORT.
 */
import { connect } from 'node:net';
import { ControlChannel } from '../../gateway/agent/control-channel';
import { openDataStream } from '../../gateway/agent/data-stream';
import { enrollGateway } from '../../gateway/agent/enroll';

const server = required('BENCH_SERVER');
const enrollmentToken = required('BENCH_ENROLLMENT_TOKEN');
const echoPort = Number(required('BENCH_ECHO_PORT'));
const name = 'bench-echo';

async function main(): Promise<void> {
  const { credential } = await enrollGateway({ server, token: enrollmentToken, name });
  const channel = new ControlChannel({
    server,
    credential,
    name,
    version: 'bench',
    log: (level, message) => process.stderr.write(`echo gateway ${level}: ${message}\n`),
  });
  channel.on('status', (status) => {
    if (status === 'online') process.stdout.write(`${JSON.stringify({ status })}\n`);
  });
  channel.on('message', (message) => {
    if (message.type === 'stream.open') openStream(credential, message.streamId);
  });
  channel.start();
  process.once('SIGTERM', () => {
    channel.stop();
    process.exit(0);
  });
}

function openStream(credential: string, streamId: string): void {
  openDataStream({ server, credential, streamId }).then(
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
