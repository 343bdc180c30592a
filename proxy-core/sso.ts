/**
 * The client's half of single sign-on (CLI and extension): a PKCE pair of its own, and the address that starts the
 * sign-in in a browser. The server talks to the identity provider; the client only ever sees a one-time code,
 * worthless without the verifier that never leaves it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { API_PREFIX } from '../protocol/api';

export interface PkcePair {
  verifier: string;
  challenge: string;
}

/** RFC 7636: 32 random bytes as the verifier (43 characters), its S256 as the challenge. */
export function newPkcePair(): PkcePair {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier, 'ascii').digest('base64url') };
}

/** A random `state` to match the browser's arrival with this sign-in. */
export function newClientState(): string {
  return randomBytes(16).toString('base64url');
}

/** `<server>/api/v1/auth/sso/start?…`: open it in a browser. */
export function ssoStartUrl(server: string, input: { redirectUri: string; challenge: string; state: string }): string {
  const query = new URLSearchParams({
    redirect_uri: input.redirectUri,
    code_challenge: input.challenge,
    code_challenge_method: 'S256',
    state: input.state,
  });
  return `${server.replace(/\/$/, '')}${API_PREFIX}/auth/sso/start?${query}`;
}
