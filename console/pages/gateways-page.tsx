/** Gateways: status and last seen; a new gateway's enrollment token with the command to run where it goes. */
import { useState } from 'preact/hooks';
import type { EnrollmentTokenDto, GatewayDto } from '../../protocol/api';
import { api, errorText } from '../api/console-api';
import { useApp } from '../app-state';
import { ConfirmButton } from '../components/confirm-button';
import { ListTable, useCursorList } from '../components/cursor-list';
import { ErrorMessage } from '../components/messages';
import { PageTitle } from '../components/page-title';
import { TimeText } from '../components/time-text';

export function GatewaysPage() {
  const { project } = useApp();
  const [error, setError] = useState<string>();
  const [name, setName] = useState('');
  const [enrollment, setEnrollment] = useState<EnrollmentTokenDto & { name: string }>();
  const list = useCursorList<GatewayDto>(
    (cursor) => api.page<GatewayDto>('/gateways', { projectId: project?.id, limit: 25 }, cursor),
    `gateways ${project?.id}`,
  );

  async function createToken(event: Event) {
    event.preventDefault();
    setError(undefined);
    try {
      const token = await api.post<EnrollmentTokenDto>('/gateways/enrollment-tokens', { projectId: project?.id, name });
      setEnrollment({ ...token, name });
      setName('');
    } catch (e) {
      setError(errorText(e));
    }
  }
  async function remove(gateway: GatewayDto) {
    try {
      await api.delete(`/gateways/${gateway.id}`);
      list.reload();
    } catch (e) {
      setError(errorText(e));
    }
  }

  return (
    <>
      <PageTitle>Gateways</PageTitle>
      <p class="lead">
        A gateway runs in the network of your databases and only connects out to this server. Sessions reach databases through it.
      </p>
      {error && <ErrorMessage text={error} />}
      <ListTable
        list={list}
        label="Gateways"
        empty="No gateways yet: add one below."
        caption="Gateways of the project"
        columns={['Name', 'Status', 'Last seen', 'Created', 'Actions']}
        row={(g) => (
          <tr key={g.id}>
            <td>{g.name}</td>
            <td>
              <span class={g.online ? 'ok' : 'failed'}>{g.online ? 'online' : 'offline'}</span>
            </td>
            <td>
              <TimeText iso={g.lastSeenAt} />
            </td>
            <td>
              <TimeText iso={g.createdAt} />
            </td>
            <td>
              <ConfirmButton
                label={`Delete ${g.name}`}
                question={`Delete the gateway ${g.name}? Its resources stop working until moved.`}
                onConfirm={() => void remove(g)}
              />
            </td>
          </tr>
        )}
      />
      <h2>Add a gateway</h2>
      <form class="card form" onSubmit={createToken}>
        <label>
          Gateway name
          <input
            name="gatewayName"
            required
            maxLength={100}
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
            placeholder="dc1"
          />
        </label>
        <div class="actions">
          <button type="submit" class="primary">
            Create enrollment token
          </button>
        </div>
      </form>
      {enrollment && (
        <section class="card" aria-labelledby="enrollment-title">
          <h3 id="enrollment-title">Enrollment token for {enrollment.name}</h3>
          <p>
            Single use, expires <TimeText iso={enrollment.expiresAt} />. Shown only now.
          </p>
          <pre class="secret">{enrollment.token}</pre>
          <p>
            On the gateway machine, save the token in a file only you can read (<code>umask 077; cat &gt; enroll-token</code>, paste it,
            Ctrl+D), then run:
          </p>
          <pre>
            portcullis gateway start --server {window.location.origin} --token-file enroll-token --name {enrollment.name}
          </pre>
        </section>
      )}
    </>
  );
}
