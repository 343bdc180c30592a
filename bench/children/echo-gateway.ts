/**
 * Bench child: a gateway whose streams go to a TCP echo server instead of MongoDB, for the raw tunnel figure (the
 * relay's cost with MongoDB and the engine left out). It uses the real gateway pieces (ControlChannel and
 * openDataStream, as gateway/agent/agent.ts does) and pipes each data stream to a new connection to the echo
 * server at BENCH_ECHO_PORT. The gateway credential comes in BENCH_GATEWAY_CREDENTIAL (not argv).
 */
import { connect } from 'node:net';
import { ControlChannel } from '../../gateway/agent/control-channel';
import { openDataStream } from '../../gateway/agent/data-stream';

const server = required('BENCH_SERVER');
const credential = required('BENCH_GATEWAY_CREDENTIAL');
const echoPort = Number(required('BENCH_ECHO_PORT'));

const channel = new ControlChannel({
  server,
  credential,
  name: 'bench-echo',
  version: 'bench',
  log: (level, message) => process.stderr.write(`echo gateway ${level}: ${message}\n`),
});
channel.on('status', (status) => {
  if (status === 'online') process.stdout.write(`${JSON.stringify({ status })}\n`);
});
channel.on('message', (message) => {
  if (message.type === 'stream.open') openStream(message.streamId);
});
channel.start();
process.once('SIGTERM', () => {
  channel.stop();
  process.exit(0);
});

function openStream(streamId: string): void {
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

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (this program is started by bench/run.ts)`);
  return value;
}
