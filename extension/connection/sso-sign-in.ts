/**
 * Single sign-on from the extension: the browser signs in at the identity provider through the server, and comes
 * back to this extension's URI handler (`<uriScheme>://portcullis.portcullis/sso-callback`). `asExternalUri` turns
 * that into an address the browser can reach, so it also works in remote and browser-based VS Code (code-server).
 * The one-time code is worthless without the PKCE verifier, which never leaves this process.
 */
import * as vscode from 'vscode';
import type { SsoLoginResponse } from '../../protocol/api';
import { type ApiClient, isApiError } from '../../proxy-core/api-client';
import { displayMessage } from '../../proxy-core/display-text';
import { newClientState, newPkcePair, ssoStartUrl } from '../../proxy-core/sso';

export const SSO_CALLBACK_PATH = '/sso-callback';
/** As long as the server keeps a sign-in open. */
export const SSO_WAIT_MS = 10 * 60_000;

/** Why a single sign-on did not finish; the message says what to do. */
export class SsoSignInError extends Error {}

interface Pending {
  state: string;
  resolve(query: URLSearchParams): void;
}

/**
 * The extension's URI handler: hands the browser's arrival to the sign-in that waits for its `state`. An arrival
 * for no waiting sign-in (an old tab, a forged link) is ignored, so nobody can sign this editor in from outside.
 */
export class SsoRedirects implements vscode.UriHandler {
  private readonly pending = new Map<string, Pending>();

  handleUri(uri: vscode.Uri): void {
    if (uri.path !== SSO_CALLBACK_PATH) return;
    const query = new URLSearchParams(uri.query);
    const waiting = this.pending.get(query.get('state') ?? '');
    if (!waiting) return;
    this.pending.delete(waiting.state);
    waiting.resolve(query);
  }

  /** The query the browser comes back with for `state`; rejects on timeout or cancellation. */
  wait(state: string, timeoutMs: number, token: vscode.CancellationToken): Promise<URLSearchParams> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        cancelled.dispose();
        this.pending.delete(state);
      };
      const timer = setTimeout(() => {
        done();
        reject(new SsoSignInError('no sign-in came back in time; run Sign In again'));
      }, timeoutMs);
      const cancelled = token.onCancellationRequested(() => {
        done();
        reject(new SsoSignInError('the single sign-on was cancelled'));
      });
      this.pending.set(state, {
        state,
        resolve: (query) => {
          done();
          resolve(query);
        },
      });
    });
  }
}

/** Opens the browser at the server's SSO start and exchanges the code that comes back for a Portcullis token. */
export async function signInWithSso(
  client: ApiClient,
  providerName: string,
  redirects: SsoRedirects,
  timeoutMs = SSO_WAIT_MS,
): Promise<SsoLoginResponse> {
  const pkce = newPkcePair();
  const state = newClientState();
  const callback = vscode.Uri.parse(`${vscode.env.uriScheme}://portcullis.portcullis${SSO_CALLBACK_PATH}`);
  const redirectUri = (await vscode.env.asExternalUri(callback)).toString(true);
  const url = ssoStartUrl(client.server, { redirectUri, challenge: pkce.challenge, state });
  await checkOpenable(client.server, url);
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Signing in with ${providerName} in your browser…`, cancellable: true },
    async (_progress, cancel) => {
      const arrival = redirects.wait(state, timeoutMs, cancel);
      // A string, not a Uri: VS Code would re-encode the redirect_uri nested in the query (it takes either).
      const opened = await vscode.env.openExternal(url as unknown as vscode.Uri);
      if (!opened) {
        void vscode.window.showInformationMessage(`Open this address in your browser to sign in with ${providerName}: ${url}`);
      }
      const query = await arrival;
      const code = query.get('code');
      if (!code) {
        const reason = query.get('error_description') ?? query.get('error') ?? 'no code came back';
        throw new SsoSignInError(`the single sign-on did not finish (${displayMessage(reason)}); run Sign In again`);
      }
      try {
        return await client.ssoToken({ code, codeVerifier: pkce.verifier });
      } catch (error) {
        if (isApiError(error, 'sso_refused')) throw new SsoSignInError(`the single sign-on was refused: ${displayMessage(error.message)}`);
        throw error;
      }
    },
  );
}

/**
 * code-server takes `localhost` and `127.0.0.1` for its own machine and opens them through its port proxy, dropping
 * the path and query up to at least 4.100.3 (coder/code-server#7668): the browser would land on the server's home
 * page and the sign-in never start. Said before the browser opens, rather than waiting for an answer that cannot come.
 */
async function checkOpenable(server: string, url: string): Promise<void> {
  const opened = await vscode.env.asExternalUri(vscode.Uri.parse(url));
  let path = '';
  try {
    path = new URL(opened.toString(true)).pathname;
  } catch {
    return;
  }
  if (path.endsWith(new URL(url).pathname)) return;
  throw new SsoSignInError(
    `this editor opens ${server} through its port proxy and loses the sign-in's address (code-server does this for localhost and 127.0.0.1); run Sign In again with the server's real name, or sign in with email and password`,
  );
}
