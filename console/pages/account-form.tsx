/** The fields of an account, for Add and Edit (on Edit, an empty password keeps the stored one). */
import { useState } from 'preact/hooks';
import type { AccountDto, AccountInput } from '../../protocol/api';
import { errorText } from '../api/console-api';
import { ErrorMessage } from '../components/messages';

export function AccountForm({
  initial,
  submitLabel,
  onSaved,
}: {
  initial?: AccountDto;
  submitLabel: string;
  onSaved(input: Partial<AccountInput>): Promise<void>;
}) {
  const [name, setName] = useState(initial?.name ?? '');
  const [username, setUsername] = useState(initial?.username ?? '');
  const [password, setPassword] = useState('');
  const [description, setDescription] = useState(initial?.description ?? '');
  const [mfaRequired, setMfaRequired] = useState(initial?.mfaRequired ?? false);
  const [hours, setHours] = useState(String((initial?.maxSessionDurationSeconds ?? 8 * 3600) / 3600));
  const [readOnly, setReadOnly] = useState(initial?.policy.mode === 'read-only');
  const [approval, setApproval] = useState(initial?.policy.approvalRequired ?? false);
  const [reason, setReason] = useState(initial?.policy.reasonRequired ?? false);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const idPrefix = initial ? `edit-${initial.id}` : 'new-account';

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await onSaved({
        name,
        username,
        description,
        mfaRequired,
        maxSessionDurationSeconds: Math.round(Number(hours) * 3600),
        policy: {
          ...initial?.policy,
          mode: readOnly ? 'read-only' : 'read-write',
          approvalRequired: approval,
          reasonRequired: reason || approval,
        },
        ...(password ? { password } : {}),
      });
      setPassword('');
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card form" onSubmit={submit} aria-label={initial ? `Edit account ${initial.name}` : 'Add an account'}>
      {error && <ErrorMessage text={error} />}
      <label>
        Name
        <input name="name" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        Database user
        <input name="username" required autoComplete="off" value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
      </label>
      <div class="field">
        <label>
          {initial ? 'New password (empty: keep the stored one)' : 'Password'}
          <input
            type="password"
            name="password"
            autoComplete="new-password"
            required={!initial}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            aria-describedby={`${idPrefix}-pw-help`}
          />
        </label>
        <span id={`${idPrefix}-pw-help`} class="help">
          Encrypted at rest; only ever sent to the gateway for a running session. Nobody can read it back.
        </span>
      </div>
      <label class="wide">
        Description
        <input name="description" maxLength={1000} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
      </label>
      <label>
        Longest session (hours)
        <input
          type="number"
          name="maxHours"
          min="0.1"
          max="168"
          step="0.1"
          required
          value={hours}
          onInput={(e) => setHours(e.currentTarget.value)}
        />
      </label>
      <label class="check">
        <input type="checkbox" name="mfaRequired" checked={mfaRequired} onChange={(e) => setMfaRequired(e.currentTarget.checked)} />
        MFA required for access
      </label>
      <label class="check">
        <input type="checkbox" name="readOnly" checked={readOnly} onChange={(e) => setReadOnly(e.currentTarget.checked)} />
        Read-only (the gateway refuses writes)
      </label>
      <label class="check">
        <input
          type="checkbox"
          name="reasonRequired"
          checked={reason || approval}
          disabled={approval}
          onChange={(e) => setReason(e.currentTarget.checked)}
        />
        Reason required
      </label>
      <label class="check">
        <input type="checkbox" name="approvalRequired" checked={approval} onChange={(e) => setApproval(e.currentTarget.checked)} />
        An admin's approval required
      </label>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {submitLabel}
        </button>
      </div>
    </form>
  );
}
