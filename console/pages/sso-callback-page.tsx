/**
 * Where single sign-on comes back to (CONSOLE_SSO_CALLBACK_PATH): the state must be the one this tab stored, then
 * the one-time code and the PKCE verifier become the console's cookie (`POST /console/sso`), with the authenticator
 * code first if the server asks for it. The code leaves the address bar either way.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ConsoleSessionDto, ConsoleSsoRequest } from '../../protocol/api';
import { api, errorText } from '../api/console-api';
import { takeSsoReturn } from '../api/sso-flow';
import { useAuthenticatorCode } from '../components/authenticator-code-field';
import { ErrorMessage } from '../components/messages';

export function SsoCallbackPage({ onSignedIn }: { onSignedIn(session: ConsoleSessionDto): void }) {
  const [taken] = useState(() => takeSsoReturn(new URLSearchParams(window.location.search)));
  const { needCode, code, setCode, askedFor, field: codeField } = useAuthenticatorCode();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(taken.ok);

  async function exchange(authenticatorCode?: string) {
    if (!taken.ok) return;
    setBusy(true);
    setError(undefined);
    try {
      const body: ConsoleSsoRequest = {
        code: taken.code,
        codeVerifier: taken.verifier,
        ...(authenticatorCode ? { authenticatorCode } : {}),
      };
      const session = await api.post<ConsoleSessionDto>('/console/sso', body);
      window.history.replaceState(null, '', '/#/sessions');
      onSignedIn(session);
    } catch (e) {
      if (!askedFor(e)) {
        setError(errorText(e));
        setCode('');
      }
      setBusy(false);
    }
  }

  useEffect(() => {
    // The one-time code is of no use to anyone once read (and must not stay in the history).
    window.history.replaceState(null, '', window.location.pathname);
    void exchange();
  }, []);

  function submit(event: Event) {
    event.preventDefault();
    void exchange(code);
  }

  const refusal = taken.ok ? undefined : taken.message;
  return (
    <main id="main" class="sign-in">
      <form class="card" onSubmit={submit} aria-labelledby="sso-title">
        <h1 id="sso-title">Single sign-on</h1>
        {(refusal ?? error) && <ErrorMessage text={(refusal ?? error)!} />}
        {busy && !needCode && <p role="status">Signing you in…</p>}
        {needCode && (
          <>
            {codeField}
            <button type="submit" class="primary" disabled={busy}>
              Verify and sign in
            </button>
          </>
        )}
        {!busy && (refusal || (error && !needCode)) && <a href="/">Back to sign-in</a>}
      </form>
    </main>
  );
}
