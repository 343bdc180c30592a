/**
 * Sign-in: email and password, then the authenticator code when the user set one up (the server asks for it); and
 * "Sign in with …" when the server has single sign-on. With password sign-in off at the server, only that shows.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ConsoleSessionDto, ConsoleSignInRequest, SignInMethodsDto } from '../../protocol/api';
import { api, errorText } from '../api/console-api';
import { useAuthenticatorCode } from '../components/authenticator-code-field';
import { ErrorMessage } from '../components/messages';
import { SsoSignIn } from '../components/sso-sign-in';

export function SignInPage({ onSignedIn }: { onSignedIn(session: ConsoleSessionDto): void }) {
  const [methods, setMethods] = useState<SignInMethodsDto>();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { needCode, code, setCode, askedFor, field: codeField } = useAuthenticatorCode();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.get<SignInMethodsDto>('/auth/sso').then(setMethods, (e: unknown) => {
      // The password form still works if the server answers it; the error says why SSO may be missing.
      setMethods({ password: true, sso: { enabled: false } });
      setError(errorText(e));
    });
  }, []);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const body: ConsoleSignInRequest = { email, password, ...(needCode ? { code } : {}) };
      onSignedIn(await api.post<ConsoleSessionDto>('/console/sign-in', body));
    } catch (e) {
      if (!askedFor(e)) {
        setError(errorText(e));
        if (needCode) setCode('');
      }
    } finally {
      setBusy(false);
    }
  }

  if (!methods) return <p class="loading">Loading…</p>;
  return (
    <main id="main" class="sign-in">
      <div class="card">
        <h1 id="sign-in-title">Sign in to Portcullis</h1>
        {error && <ErrorMessage text={error} />}
        {methods.password && (
          <form onSubmit={submit} aria-labelledby="sign-in-title">
            <label>
              Email
              <input
                type="email"
                name="email"
                autoComplete="username"
                required
                value={email}
                onInput={(e) => setEmail(e.currentTarget.value)}
              />
            </label>
            <label>
              Password
              <input
                type="password"
                name="password"
                autoComplete="current-password"
                required
                value={password}
                onInput={(e) => setPassword(e.currentTarget.value)}
              />
            </label>
            {codeField}
            <button type="submit" class="primary" disabled={busy}>
              {needCode ? 'Verify and sign in' : 'Sign in'}
            </button>
          </form>
        )}
        {methods.sso.enabled && (
          <>
            {methods.password && <p class="or">or</p>}
            <SsoSignIn name={methods.sso.name} onError={setError} />
          </>
        )}
      </div>
    </main>
  );
}
