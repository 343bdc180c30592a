/**
 * Bench child, used only while `portcullis server` cannot be built (server/run-server.ts not there yet): the
 * control plane with the relay attached, composed as test/e2e/tunnel-harness.ts does. Prints the same lines as
 * `portcullis server` so bench/portcullis-stack.ts reads both alike. Data folder and port from BENCH_DATA_DIR and
 * BENCH_PORT.
 */
import { resolveConfig } from '../../server/config';
import { startControlPlane } from '../../server/control-plane';
import { relayDepsFromServices } from '../../server/relay/control-plane-deps';
import { attachRelay } from '../../server/relay/relay';

async function main(): Promise<void> {
  const config = resolveConfig({ dataDir: required('BENCH_DATA_DIR'), listenPort: Number(required('BENCH_PORT')), logger: false });
  const cp = await startControlPlane(config);
  const relay = attachRelay(cp.httpServer, relayDepsFromServices(cp.services));
  process.stdout.write(`Portcullis control plane listening on ${cp.url}\n`);
  if (cp.bootstrapResult) process.stdout.write(`  Email:    ${cp.bootstrapResult.email}\n  Password: ${cp.bootstrapResult.password}\n`);
  process.once('SIGTERM', async () => {
    await relay.close();
    await cp.close();
    process.exit(0);
  });
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (this program is started by bench/run.ts)`);
  return value;
}

main().catch((error) => {
  process.stderr.write(`the control plane did not start: ${(error as Error).stack}\n`);
  process.exit(1);
});
