/** The authenticator app's code, asked for when the server answers `mfa_required` at sign-in (password or SSO). */
import type { Ref } from 'preact';

export function AuthenticatorCodeField({
  value,
  onInput,
  inputRef,
}: {
  value: string;
  onInput(value: string): void;
  inputRef: Ref<HTMLInputElement>;
}) {
  return (
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
          value={value}
          onInput={(e) => onInput(e.currentTarget.value)}
          aria-describedby="code-help"
        />
      </label>
      <span id="code-help" class="help">
        The 6-digit code your authenticator app shows for Portcullis.
      </span>
    </div>
  );
}
