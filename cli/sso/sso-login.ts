/**
 * `portcullis login --sso`: single sign-on in a browser. By default the browser comes back to a loopback listener
 * of this process (RFC 8252), and the address is printed in case no browser opens. With `--device`, for a machine
 * whose browser cannot reach this one (an SSH session), the user opens the printed address on any device and this
 * process asks the server every few seconds whether the sign-in is done (RFC 8628 style).
 */
import type { SsoLoginResponse } from '../../protocol/api';
import { type ApiClient, isApiError } from '../../proxy-core/api-client';
import { displayMessage } from '../../proxy-core/display-text';
import { newClientState, newPkcePair, ssoStartUrl } from '../../proxy-core/sso';
import { CliError } from '../errors';
import { EXIT_CODES } from '../exit-codes';
import { printStatus } from '../output/output-mode';
import { listenForRedirect } from './loopback-redirect';
import { openBrowser } from './open-browser';

/** As long as the server keeps a sign-in open. */
const SIGN_IN_WAIT_MS = 10 * 60_000;

export async function signInWithSso(client: ApiClient, options: { device: boolean; browser: boolean }): Promise<SsoLoginResponse> {
  const name = await ssoName(client);
  return options.device ? deviceSignIn(client, name) : loopbackSignIn(client, name, options.browser);
}

async function ssoName(client: ApiClient): Promise<string> {
  const methods = await client.signInMethods().catch((error: unknown) => {
    // A server from before single sign-on has no such route.
    if (isApiError(error, 'not_found')) return undefined;
    throw error;
  });
  if (!methods?.sso.enabled) {
    throw new CliError(
      `${client.server} has no single sign-on set up; sign in with your email and password (portcullis login --email EMAIL)`,
    );
  }
  return methods.sso.name;
}

async function loopbackSignIn(client: ApiClient, name: string, browser: boolean): Promise<SsoLoginResponse> {
  const pkce = newPkcePair();
  const state = newClientState();
  const redirect = await listenForRedirect(state);
  const url = ssoStartUrl(client.server, { redirectUri: redirect.uri, challenge: pkce.challenge, state });
  const opened = browser && (await openBrowser(url));
  printStatus(
    opened
      ? `Opening your browser to sign in with ${name}. If it did not open, open this address in a browser on this computer:`
      : `Open this address in a browser on this computer to sign in with ${name}:`,
  );
  printStatus(`  ${url}`);
  printStatus('(If your browser runs on another machine, stop this and run portcullis login --sso --device.)');
  let timer: NodeJS.Timeout | undefined;
  const query = await Promise.race([
    redirect.arrival,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new CliError('no sign-in arrived within 10 minutes; run portcullis login --sso again')),
        SIGN_IN_WAIT_MS,
      );
    }),
  ]).catch(async (error: unknown) => {
    await redirect.finish({ ok: false, text: 'The sign-in timed out.' });
    throw error;
  });
  clearTimeout(timer);
  const code = query.get('code');
  if (!code) {
    await redirect.finish({ ok: false, text: 'The server sent no sign-in code. Return to your terminal.' });
    throw new CliError(
      `the single sign-on did not finish (${query.get('error') ?? 'no code'}); run portcullis login --sso again`,
      EXIT_CODES.notSignedIn,
    );
  }
  try {
    const answer = await client.ssoToken({ code, codeVerifier: pkce.verifier });
    await redirect.finish({
      ok: true,
      text: `You are signed in as ${answer.user.email}. You can close this page and return to your terminal.`,
    });
    return answer;
  } catch (error) {
    await redirect.finish({ ok: false, text: `${isApiError(error) ? error.message : 'The sign-in failed'}. Your terminal says more.` });
    throw refusal(error);
  }
}

async function deviceSignIn(client: ApiClient, name: string): Promise<SsoLoginResponse> {
  const device = await client.ssoDevice();
  printStatus(`To sign in with ${name}, open this address in a browser on any device and sign in:`);
  printStatus(`  ${device.verificationUrl}`);
  printStatus(`The page then confirms the code ${device.userCode}. Waiting for you to finish…`);
  const until = Date.parse(device.expiresAt);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, device.intervalSeconds * 1000));
    try {
      return await client.ssoToken({ deviceCode: device.deviceCode });
    } catch (error) {
      if (!isApiError(error, 'sso_pending')) throw refusal(error);
      if (Date.now() > until)
        throw new CliError('the sign-in was not finished in time; run portcullis login --sso --device again', EXIT_CODES.notSignedIn);
    }
  }
}

function refusal(error: unknown): unknown {
  if (isApiError(error, 'sso_refused')) {
    return new CliError(`the single sign-on was refused: ${displayMessage(error.message)}`, EXIT_CODES.notSignedIn);
  }
  return error;
}
