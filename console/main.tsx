/**
 * The web console's entry: asks the server who is signed in (by the HttpOnly cookie), then shows the sign-in page
 * or the signed-in app. Bundled by scripts/build.mjs into dist/console/console.js; the server serves it at `/`.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { CONSOLE_SSO_CALLBACK_PATH, type ConsoleSessionDto } from '../protocol/api';
import { ApiError, api, setCsrfToken, setSignedOutHandler } from './api/console-api';
import { AppShell } from './app-shell';
import { ErrorMessage } from './components/messages';
import { SignInPage } from './pages/sign-in-page';
import { SsoCallbackPage } from './pages/sso-callback-page';

type Start =
  | { state: 'loading' }
  | { state: 'signed-out' }
  | { state: 'sso-return' }
  | { state: 'signed-in'; session: ConsoleSessionDto }
  | { state: 'error'; message: string };

function Console() {
  const [start, setStart] = useState<Start>({ state: 'loading' });

  function signedIn(session: ConsoleSessionDto) {
    setCsrfToken(session.csrfToken);
    setStart({ state: 'signed-in', session });
  }

  function signedOut() {
    setCsrfToken(undefined);
    setStart({ state: 'signed-out' });
  }

  useEffect(() => {
    setSignedOutHandler(signedOut);
    // Back from single sign-on: that page finishes the sign-in (whoever was signed in before).
    if (window.location.pathname === CONSOLE_SSO_CALLBACK_PATH) {
      setStart({ state: 'sso-return' });
      return;
    }
    api.get<ConsoleSessionDto>('/console/session').then(signedIn, (e: unknown) => {
      if (e instanceof ApiError && e.status === 401) signedOut();
      else setStart({ state: 'error', message: e instanceof Error ? e.message : String(e) });
    });
  }, []);

  switch (start.state) {
    case 'loading':
      return <p class="loading">Loading…</p>;
    case 'error':
      return (
        <main id="main">
          <ErrorMessage text={start.message} />
        </main>
      );
    case 'signed-out':
      return <SignInPage onSignedIn={signedIn} />;
    case 'sso-return':
      return <SsoCallbackPage onSignedIn={signedIn} />;
    case 'signed-in':
      return <AppShell session={start.session} onSignedOut={signedOut} />;
  }
}

render(<Console />, document.getElementById('app')!);
