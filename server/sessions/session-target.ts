/**
 * What a gateway gets to reach MongoDB for a session: the connection details and the decrypted account
 * password (and CA). Only for an active, unexpired session assigned to that very gateway.
 */
import type { SessionTunnelPins } from '../../protocol/gateway-channel';
import type { MongoTarget } from '../../protocol/target';
import { findAccount } from '../services/accounts';
import type { ServiceContext } from '../services/context';
import { accountTarget } from '../services/mongo-targets';
import { tunnelCaFor } from '../tunnel/tunnel-ca';
import { findSession } from './session-queries';

export type SessionTargetAnswer = { target: MongoTarget; expiresAt: string; tunnel?: SessionTunnelPins } | { denied: string };

export async function getSessionTarget(ctx: ServiceContext, sessionId: string, gatewayId: string): Promise<SessionTargetAnswer> {
  const session = await findSession(ctx, sessionId);
  if (!session || session.gateway_id !== gatewayId) return { denied: 'no such session on this gateway' };
  if (session.state !== 'active') return { denied: `the session is not active (${session.state})` };
  if (Date.parse(session.expires_at) <= ctx.now().getTime()) return { denied: 'the session has expired' };
  const account = await findAccount(ctx, session.account_id);
  if (!account) return { denied: 'the account of this session was deleted' };
  const resource = await ctx.store.db.selectFrom('resources').selectAll().where('id', '=', session.resource_id).executeTakeFirst();
  if (!resource) return { denied: 'the resource of this session was deleted' };
  // A session from before end-to-end encryption has no certificate: the gateway refuses its streams.
  const tunnel = session.tunnel_client_fingerprint
    ? {
        clientCa: (await tunnelCaFor(ctx.rootKey, session.project_id)).certificatePem,
        clientFingerprint: session.tunnel_client_fingerprint,
      }
    : undefined;
  return {
    target: await accountTarget(ctx, resource, account),
    expiresAt: session.expires_at,
    ...(tunnel ? { tunnel } : {}),
  };
}
