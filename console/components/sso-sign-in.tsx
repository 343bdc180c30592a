/** "Sign in with …" on the sign-in page, when the server has single sign-on (`GET /auth/sso` says so). */
import { useState } from 'preact/hooks';
import { errorText } from '../api/console-api';
import { startSsoSignIn } from '../api/sso-flow';

export function SsoSignIn({ name, onError }: { name: string; onError(message: string): void }) {
  const [busy, setBusy] = useState(false);

  async function start() {
    setBusy(true);
    try {
      await startSsoSignIn();
      // The browser is leaving for the provider: the button stays disabled.
    } catch (e) {
      onError(errorText(e));
      setBusy(false);
    }
  }

  return (
    <button type="button" class="primary sso" disabled={busy} onClick={start}>
      Sign in with {name}
    </button>
  );
}
