/** The authenticator app's code, asked for when the server answers `mfa_required` at sign-in (password or SSO). */
import { useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/console-api';

/**
 * The code step of a sign-in: `askedFor(error)` is true when the server asked for the code (the field then shows
 * and takes the focus); any other error is the caller's to show.
 */
export function useAuthenticatorCode() {
  const [needCode, setNeedCode] = useState(false);
  const [code, setCode] = useState('');
  const inputRef = useRef<HTMLInputElement>(null);

  function askedFor(error: unknown): boolean {
    if (!(error instanceof ApiError && error.code === 'mfa_required')) return false;
    setNeedCode(true);
    setTimeout(() => inputRef.current?.focus(), 0);
    return true;
  }

  const field = needCode ? (
    <div class="field">
      <label>
        Authenticator code
        <input
          ref={inputRef}
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
  ) : null;

  return { needCode, code, setCode, askedFor, field };
}
