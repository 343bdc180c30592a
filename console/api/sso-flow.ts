/**
 * The console's side of single sign-on (Authorization Code with PKCE, through the control plane): a PKCE verifier
 * and a state made with WebCrypto, kept in this tab's sessionStorage while the browser is at the identity provider,
 * and checked when it comes back to CONSOLE_SSO_CALLBACK_PATH. A state this tab did not store means the answer is
 * not this tab's sign-in (someone else's link, or a tampered one): it is refused before its code is sent anywhere.
 */
import { API_PREFIX, CONSOLE_SSO_CALLBACK_PATH } from '../../protocol/api';

const STORAGE_KEY = 'portcullis.console.sso';

interface PendingSignIn {
  state: string;
  verifier: string;
}

/** What the browser brought back, checked against this tab's pending sign-in. */
export type SsoReturn = { ok: true; code: string; verifier: string } | { ok: false; message: string };

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomText(bytes: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** Sends the browser to the provider (through `/auth/sso/start`); it comes back to this console's callback page. */
export async function startSsoSignIn(): Promise<void> {
  if (!crypto.subtle) {
    // WebCrypto's digest exists only on secure pages (HTTPS, or the loopback address).
    throw new Error(
      'single sign-on needs the console over HTTPS (the browser offers no WebCrypto here): ask an admin to serve it with TLS',
    );
  }
  // RFC 7636: 32 random bytes give a 43-character verifier; the challenge is base64url(SHA-256(verifier)).
  const verifier = randomText(32);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  const pending: PendingSignIn = { state: randomText(16), verifier };
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(pending));
  const query = new URLSearchParams({
    redirect_uri: `${window.location.origin}${CONSOLE_SSO_CALLBACK_PATH}`,
    code_challenge: base64url(new Uint8Array(digest)),
    code_challenge_method: 'S256',
    state: pending.state,
  });
  window.location.assign(`${API_PREFIX}/auth/sso/start?${query}`);
}

/** Reads the callback's query and this tab's pending sign-in, and forgets the latter: each start is answered once. */
export function takeSsoReturn(query: URLSearchParams): SsoReturn {
  let pending: PendingSignIn | undefined;
  try {
    pending = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') ?? undefined;
  } catch {
    pending = undefined;
  }
  sessionStorage.removeItem(STORAGE_KEY);
  const state = query.get('state');
  const code = query.get('code');
  if (!pending || typeof pending.state !== 'string' || typeof pending.verifier !== 'string') {
    return {
      ok: false,
      message:
        'This single sign-on answer was refused: this browser tab did not start a sign-in (or already finished it). If you did not follow a link from someone else, start the sign-in again.',
    };
  }
  if (state !== pending.state) {
    return {
      ok: false,
      message:
        'This single sign-on answer was refused: it does not belong to the sign-in this tab started (its state does not match). Start the sign-in again.',
    };
  }
  if (!code) return { ok: false, message: 'The single sign-on came back without a sign-in code: start the sign-in again.' };
  return { ok: true, code, verifier: pending.verifier };
}
