/**
 * Where a finished single sign-on may send the browser back to. The one-time code it carries is worth nothing without
 * the client's PKCE verifier, but a phishing link that names the attacker's own address and challenge would hand the
 * attacker a victim's sign-in: so only addresses of the user's own machine and known clients are accepted.
 */

/** VS Code and its builds open `<scheme>://portcullis.portcullis/...` in the extension (its URI handler). */
export const EDITOR_SCHEMES = Object.freeze(['vscode', 'vscode-insiders', 'code-oss', 'vscodium']);
export const EXTENSION_ID = 'portcullis.portcullis';

/**
 * Null when allowed, else why not. Allowed: loopback http on any port (RFC 8252 section 7.3: the CLI's listener, or
 * a browser-based VS Code served from this machine), the extension's own URI in an editor scheme, and the origins
 * the admin listed (PORTCULLIS_SSO_REDIRECT_ORIGINS) or the server's own public origin (the web console).
 */
export function redirectProblem(redirectUri: string, allowedOrigins: readonly string[]): string | null {
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    return 'redirect_uri is not a URL';
  }
  if (url.hash) return 'redirect_uri must not have a fragment';
  if (url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname)) return null;
  if (EDITOR_SCHEMES.includes(url.protocol.slice(0, -1))) {
    return url.host === EXTENSION_ID ? null : `an editor redirect_uri must be for the extension ${EXTENSION_ID}`;
  }
  if (allowedOrigins.includes(url.origin)) return null;
  return `redirect_uri ${url.origin} is not allowed: use a loopback address, or ask an admin to list the origin in PORTCULLIS_SSO_REDIRECT_ORIGINS`;
}

/** The redirect URI with the sign-in's answer added to its query. */
export function withAnswer(redirectUri: string, answer: Record<string, string | null>): string {
  const url = new URL(redirectUri);
  for (const [key, value] of Object.entries(answer)) if (value !== null) url.searchParams.set(key, value);
  return url.href;
}
