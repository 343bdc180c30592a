/**
 * An admin's Test Connection, run by the gateway where the database is: reach the deployment as a session would
 * (connection string, SRV, TLS, hello, server selection) and, when the target names a user, sign in with SCRAM on a
 * fresh connection; then close. The answer is the same message a session's client would get, so what the test says
 * is what Access will do.
 */
import { performance } from 'node:perf_hooks';
import type { ConnectionTestDto } from '../../protocol/api';
import type { MongoTarget } from '../../protocol/target';
import { type ConnectUpstreamOptions, connectUpstream, reachUpstream, UpstreamFailure } from './connect-upstream';
import { roleOf } from './server-selection';

export async function testConnection(target: MongoTarget, options: ConnectUpstreamOptions = {}): Promise<ConnectionTestDto> {
  const started = performance.now();
  const took = () => Math.round(performance.now() - started);
  const what = target.resourceName ? `the database of resource "${target.resourceName}"` : 'the database';
  try {
    if (!target.username) {
      const { chosen } = await reachUpstream(target, options);
      const role = roleOf(chosen.hello);
      return {
        ok: true,
        stage: 'reach',
        message: `Reached ${what} (${role}). No account was given, so signing in was not tried.`,
        serverRole: role,
        durationMs: took(),
      };
    }
    const upstream = await connectUpstream(target, options);
    upstream.socket.destroy();
    return {
      ok: true,
      stage: 'authenticate',
      message: `Signed in to ${what} (${upstream.role}) as ${target.username} with ${upstream.mechanism}.`,
      serverRole: upstream.role,
      mechanism: upstream.mechanism,
      durationMs: took(),
    };
  } catch (error) {
    if (error instanceof UpstreamFailure) {
      return {
        ok: false,
        stage: error.codeName === 'AuthenticationFailed' ? 'authenticate' : 'reach',
        message: error.message,
        durationMs: took(),
      };
    }
    return {
      ok: false,
      stage: 'reach',
      message: `Portcullis gateway could not test ${what}: ${(error as Error).message}`,
      durationMs: took(),
    };
  }
}
