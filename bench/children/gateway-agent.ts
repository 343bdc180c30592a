/**
 * Bench child: the real gateway (startGatewayAgent: the engine, the recording and the log uploader, as `portcullis
 * gateway start` runs them) with the write-ahead spool in BENCH_SPOOL_DIR, or without any spool when that is not set:
 * the two sides of the "spool on and off" figure, the same program so that only the spool differs. There is no product
 * option for a gateway without spool: an audit product does not let its operators turn the write-ahead log off, so
 * the bench starts the agent itself, leaving out `spoolDir` (which the CLI always sets), as
 * bench/children/echo-gateway.ts does for its gateway.
 *
 * With BENCH_PLAIN_TUNNEL=1 it serves client streams without the inner TLS (bench/children/plain-tunnel.ts), the
 * unencrypted reference of the end-to-end encryption figure; its local proxies must be started the same way.
 *
 * It enrolls with the one-time token in BENCH_ENROLLMENT_TOKEN (not argv) against BENCH_SERVER as BENCH_GATEWAY_NAME,
 * prints {"status":"online"} once connected, and stops (uploading its last logs) on SIGTERM.
 */
import { startGatewayAgent } from '../../gateway/agent/agent';
import { enrollGateway } from '../../gateway/agent/enroll';
import { plainAcceptor, plainTunnelRequested } from './plain-tunnel';

const server = required('BENCH_SERVER');
const enrollmentToken = required('BENCH_ENROLLMENT_TOKEN');
const name = required('BENCH_GATEWAY_NAME');
const spoolDir = process.env.BENCH_SPOOL_DIR || undefined;

async function main(): Promise<void> {
  const { credential } = await enrollGateway({ server, token: enrollmentToken, name });
  const line = (level: string) => (message: string) => process.stderr.write(`gateway ${name} ${level}: ${message}\n`);
  // The options of the CLI's runAgent; spoolDir only when given.
  const agent = await startGatewayAgent({
    server,
    credential,
    name,
    logger: { info: line('info'), warn: line('warning'), error: line('error') },
    ...(spoolDir ? { spoolDir } : {}),
    ...(plainTunnelRequested() ? { acceptTunnel: plainAcceptor } : {}),
  });
  const report = (status: string) => {
    if (status === 'online') process.stdout.write(`${JSON.stringify({ status })}\n`);
  };
  report(agent.status());
  agent.on('status', report);
  process.once('SIGTERM', () => {
    agent.stop().finally(() => process.exit(0));
  });
}

function required(variable: string): string {
  const value = process.env[variable];
  if (!value) throw new Error(`${variable} is not set (this program is started by bench/run.ts)`);
  return value;
}

main().catch((error) => {
  process.stderr.write(`the bench gateway ${name} did not start: ${(error as Error).message}\n`);
  process.exit(1);
});
