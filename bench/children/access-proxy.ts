/**
 * Bench child: the user's local proxy (proxy-core's startAccess, what `portcullis access` and the VS Code
 * extension run), in its own process as on a user's machine. Reads BENCH_SERVER, BENCH_TOKEN (not argv) and
 * BENCH_ACCOUNT_ID; with BENCH_PLAIN_TUNNEL=1 it skips the inner TLS (bench/children/plain-tunnel.ts), for a gateway
 * started the same way. Prints {"uri", "sessionId"} once listening; stops the session on SIGTERM.
 */
import { startAccess } from '../../proxy-core/access';
import { plainConnector, plainTunnelRequested } from './plain-tunnel';

async function main(): Promise<void> {
  const handle = await startAccess({
    server: required('BENCH_SERVER'),
    token: required('BENCH_TOKEN'),
    accountId: required('BENCH_ACCOUNT_ID'),
    clientAgent: 'portcullis-bench',
    durationSeconds: 6 * 3600,
    ...(plainTunnelRequested() ? { connectTunnel: plainConnector } : {}),
  });
  process.stdout.write(`${JSON.stringify({ uri: handle.uri, sessionId: handle.session.id })}\n`);
  handle.on('ended', ({ reason, message }) => {
    process.stderr.write(`the bench session ended early: ${reason} (${message})\n`);
    process.exit(3);
  });
  process.once('SIGTERM', () => {
    handle.stop().finally(() => process.exit(0));
  });
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (this program is started by bench/run.ts)`);
  return value;
}

main().catch((error) => {
  process.stderr.write(`the local proxy did not start: ${(error as Error).message}\n`);
  process.exit(1);
});
