/** The user's own MFA: set up an authenticator app (QR code, then a first code to confirm it), or remove it. */

import { useEffect, useState } from 'preact/hooks';
import QRCode from 'qrcode';
import type { MfaStatusDto, TotpEnrollmentDto } from '../../protocol/api';
import { api, errorText } from '../api/console-api';
import { ErrorMessage, Notice } from '../components/messages';
import { PageTitle } from '../components/page-title';
import { TimeText } from '../components/time-text';

export function MfaPage() {
  const [status, setStatus] = useState<MfaStatusDto>();
  const [enrollment, setEnrollment] = useState<TotpEnrollmentDto & { qr: string }>();
  const [code, setCode] = useState('');
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();

  useEffect(() => {
    api.get<MfaStatusDto>('/me/mfa').then(setStatus, (e: unknown) => setError(errorText(e)));
  }, []);

  async function run(action: () => Promise<void>) {
    setError(undefined);
    setNotice(undefined);
    try {
      await action();
    } catch (e) {
      setError(errorText(e));
    }
  }
  const start = () =>
    run(async () => {
      const e = await api.post<TotpEnrollmentDto>('/me/mfa/totp');
      // Drawn here, as a data: image: the secret never leaves this page for another server.
      setEnrollment({ ...e, qr: await QRCode.toDataURL(e.uri, { margin: 2, width: 220 }) });
    });
  const confirm = (event: Event) => {
    event.preventDefault();
    return run(async () => {
      setStatus(await api.post<MfaStatusDto>('/me/mfa/totp/confirm', { code }));
      setEnrollment(undefined);
      setCode('');
      setNotice('Your authenticator app is set up. The console asks for its code when you sign in.');
    });
  };
  const remove = (event: Event) => {
    event.preventDefault();
    return run(async () => {
      setStatus(await api.delete<MfaStatusDto>('/me/mfa/totp', { code }));
      setCode('');
      setNotice('Your authenticator app was removed.');
    });
  };

  const codeField = (
    <label>
      Current code from the app
      <input
        name="totpCode"
        inputMode="numeric"
        autoComplete="one-time-code"
        required
        value={code}
        onInput={(e) => setCode(e.currentTarget.value)}
      />
    </label>
  );

  return (
    <>
      <PageTitle>My MFA</PageTitle>
      {error && <ErrorMessage text={error} />}
      {notice && <Notice text={notice} />}
      {status && (
        <dl class="facts">
          <dt>Authenticator app</dt>
          <dd>
            {status.totp.enrolled ? (
              <>
                set up <TimeText iso={status.totp.confirmedAt} />
              </>
            ) : (
              'not set up'
            )}
          </dd>
          <dt>Email codes</dt>
          <dd>{status.email.available ? `to ${status.email.sentTo}` : 'not available (no SMTP server configured)'}</dd>
          {status.projects.map((p) => (
            <>
              <dt key={`${p.projectId}-t`}>Access in {p.name}</dt>
              <dd key={`${p.projectId}-d`}>
                {p.effectiveMethod}
                {p.enforcedMethod ? ' (enforced by the project)' : ''}
              </dd>
            </>
          ))}
        </dl>
      )}
      {status && !status.totp.enrolled && !enrollment && (
        <button type="button" class="primary" onClick={() => void start()}>
          Set up an authenticator app
        </button>
      )}
      {enrollment && (
        <form class="card stack" onSubmit={confirm} aria-labelledby="enroll-title">
          <h2 id="enroll-title">Scan this code with your authenticator app</h2>
          <img
            class="qr"
            src={enrollment.qr}
            alt="QR code of the authenticator secret (the same secret is written out below)"
            width={220}
            height={220}
          />
          <p>
            Or type this secret into the app: <code class="secret">{enrollment.secret}</code>
          </p>
          {codeField}
          <div class="actions">
            <button type="submit" class="primary">
              Confirm
            </button>
          </div>
        </form>
      )}
      {status?.totp.enrolled && (
        <form class="card stack" onSubmit={remove} aria-labelledby="remove-title">
          <h2 id="remove-title">Remove the authenticator app</h2>
          {codeField}
          <div class="actions">
            <button type="submit" class="danger">
              Remove authenticator app
            </button>
          </div>
        </form>
      )}
    </>
  );
}
