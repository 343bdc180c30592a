/**
 * Bench child: a gateway whose streams go to a TCP echo server instead of MongoDB, for the raw tunnel figure (the
 * relay's cost with MongoDB and the engine left out). It uses the real gateway pieces (ControlChannel and
 * WebSocketDuplex, as gateway/agent/agent.ts does) and pipes each data stream to a new connection to the echo
 * server at BENCH_ECHO_PORT. The gateway credential comes in BENCH_GATEWAY_CREDENTIAL (not argv).
 */
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { ControlChannel, webSocketUrl } from '../../gateway/agent/control-channel';
import { WebSocketDuplex } from '../../gateway/agent/websocket-duplex';
import { GATEWAY_STREAM_PATH } from '../../protocol/gateway-channel';
import { RELAY_MAX_PAYLOAD_BYTES } from '../../protocol/relay';

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
  const ws = new WebSocket(webSocketUrl(server, `${GATEWAY_STREAM_PATH}/${encodeURIComponent(streamId)}`), {
    headers: { authorization: `Bearer ${credential}` },
    perMessageDeflate: false,
    maxPayload: RELAY_MAX_PAYLOAD_BYTES,
  });
  let socket: Socket | undefined;
  ws.once('upgrade', (response) => {
    socket = response.socket as Socket;
  });
  ws.on('error', (error) => process.stderr.write(`echo gateway stream ${streamId}: ${error.message}\n`));
  ws.once('open', () => {
    const duplex = new WebSocketDuplex(ws, socket as Socket);
    const echo = connect({ port: echoPort, host: '127.0.0.1', noDelay: true });
    echo.on('error', () => duplex.destroy());
    duplex.on('error', () => echo.destroy());
    duplex.pipe(echo).pipe(duplex);
  });
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (this program is started by bench/run.ts)`);
  return value;
}
