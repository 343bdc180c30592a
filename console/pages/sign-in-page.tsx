/** Sign-in: email and password, then the authenticator code when the user set one up (the server asks for it). */
import { useRef, useState } from 'preact/hooks';
import type { ConsoleSessionDto, ConsoleSignInRequest } from '../../protocol/api';
import { ApiError, api, errorText } from '../api/console-api';
import { ErrorMessage } from '../components/messages';
import { SsoSignIn } from '../components/sso-sign-in';

export function SignInPage({ onSignedIn }: { onSignedIn(session: ConsoleSessionDto): void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [needCode, setNeedCode] = useState(false);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const codeInput = useRef<HTMLInputElement>(null);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const body: ConsoleSignInRequest = { email, password, ...(needCode ? { code } : {}) };
      onSignedIn(await api.post<ConsoleSessionDto>('/console/sign-in', body));
    } catch (e) {
      if (e instanceof ApiError && e.code === 'mfa_required') {
        setNeedCode(true);
        setTimeout(() => codeInput.current?.focus(), 0);
      } else {
        setError(errorText(e));
        if (needCode) setCode('');
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="sign-in">
      <form class="card" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to Portcullis</h1>
        {error && <ErrorMessage text={error} />}
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
        {needCode && (
          <div class="field">
            <label>
              Authenticator code
              <input
                ref={codeInput}
                name="code"
                inputMode="numeric"
                autoComplete="one-time-code"
                pattern="[0-9 ]{6,8}"
                required
                value={code}
                onInput={(e) => setCode(e.currentTarget.value)}
                aria-describedby="code-help"
              />
            </label>
            <span id="code-help" class="help">
              The 6-digit code your authenticator app shows for Portcullis.
            </span>
          </div>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {needCode ? 'Verify and sign in' : 'Sign in'}
        </button>
        <SsoSignIn />
      </form>
    </main>
  );
}
