/**
 * Bench child: the real gateway (startGatewayAgent, the engine and the log uploader, as `portcullis gateway start`
 * runs them) without the write-ahead spool, for the "spool off" figure. There is no product option for this: an
 * audit product does not let its operators turn the write-ahead log off, so the bench starts the agent itself,
 * leaving out `spoolDir` (what the CLI always sets), as bench/children/echo-gateway.ts does for its gateway.
 *
 * It enrolls with the one-time token in BENCH_ENROLLMENT_TOKEN (not argv) against BENCH_SERVER, prints
 * {"status":"online"} once connected, and stops (uploading its last logs) on SIGTERM.
 */
import { startGatewayAgent } from '../../gateway/agent/agent';
import { enrollGateway } from '../../gateway/agent/enroll';

const server = required('BENCH_SERVER');
const enrollmentToken = required('BENCH_ENROLLMENT_TOKEN');
const name = process.env.BENCH_GATEWAY_NAME || 'bench-no-spool';

async function main(): Promise<void> {
  const { credential } = await enrollGateway({ server, token: enrollmentToken, name });
  const line = (level: string) => (message: string) => process.stderr.write(`gateway (no spool) ${level}: ${message}\n`);
  // The same options as the CLI's runAgent, spoolDir left out.
  const agent = await startGatewayAgent({
    server,
    credential,
    name,
    logger: { info: line('info'), warn: line('warning'), error: line('error') },
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
  process.stderr.write(`the gateway without spool did not start: ${(error as Error).message}\n`);
  process.exit(1);
});
