/**
 * Bench child, used only while `portcullis gateway start` cannot be built: the gateway agent with the real engine.
 * Reads BENCH_SERVER and BENCH_GATEWAY_CREDENTIAL (not argv); prints "Gateway is running" once online.
 */
import { startGatewayAgent } from '../../gateway/agent/agent';

async function main(): Promise<void> {
  const agent = await startGatewayAgent({
    server: required('BENCH_SERVER'),
    credential: required('BENCH_GATEWAY_CREDENTIAL'),
    name: 'bench',
  });
  const announce = () => process.stdout.write(`Gateway is running (${agent.status()})\n`);
  if (agent.status() === 'online') announce();
  else agent.once('status', announce);
  process.once('SIGTERM', async () => {
    await agent.stop();
    process.exit(0);
  });
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (this program is started by bench/run.ts)`);
  return value;
}

main().catch((error) => {
  process.stderr.write(`the gateway did not start: ${(error as Error).stack}\n`);
  process.exit(1);
});
