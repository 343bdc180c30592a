/**
 * A session tunnel key for tests that start sessions through the API directly (proxy-core makes its own per
 * session): sessions need the public half (`tunnelPublicKey`), the private half opens their encrypted streams.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { AccessRequest } from '../../protocol/api';

const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

export const TEST_TUNNEL_PUBLIC_KEY = pair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
export const TEST_TUNNEL_PRIVATE_KEY_PEM = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** An access request body with the test tunnel key. */
export function accessBody(extra: AccessRequest = {}): AccessRequest {
  return { tunnelPublicKey: TEST_TUNNEL_PUBLIC_KEY, ...extra };
}
