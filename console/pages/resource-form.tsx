/** The fields of a resource, for Add and Edit, with Test Connection on the settings as typed (not saved yet). */
import { useEffect, useState } from 'preact/hooks';
import type { ConnectionTestDto, GatewayDto, Page, ResourceDto, ResourceInput } from '../../protocol/api';
import { api, errorText } from '../api/console-api';
import { useApp } from '../app-state';
import { ConnectionTestButton } from '../components/connection-test';
import { ErrorMessage } from '../components/messages';

export function ResourceForm({
  initial,
  submitLabel,
  onSaved,
}: {
  initial?: ResourceDto;
  submitLabel: string;
  onSaved(input: ResourceInput): Promise<void>;
}) {
  const { project } = useApp();
  const [gateways, setGateways] = useState<GatewayDto[]>([]);
  const [input, setInput] = useState<ResourceInput>({
    name: initial?.name ?? '',
    gatewayId: initial?.gatewayId ?? '',
    connectionString: initial?.connectionString ?? '',
    authDatabase: initial?.authDatabase ?? 'admin',
    tlsEnabled: initial?.tlsEnabled ?? true,
    tlsRejectUnauthorized: initial?.tlsRejectUnauthorized ?? true,
  });
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!project) return;
    api.get<Page<GatewayDto>>('/gateways', { projectId: project.id, limit: 500 }).then(
      ({ items: list }) => {
        setGateways(list);
        setInput((i) => (i.gatewayId || list.length === 0 ? i : { ...i, gatewayId: list[0].id }));
      },
      (e: unknown) => setError(errorText(e)),
    );
  }, [project]);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await onSaved(input);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }
  const text = (name: 'name' | 'connectionString' | 'authDatabase') => (e: { currentTarget: { value: string } }) =>
    setInput({ ...input, [name]: e.currentTarget.value });

  return (
    <form class="card form" onSubmit={submit}>
      {error && <ErrorMessage text={error} />}
      <label>
        Name
        <input name="name" required maxLength={100} value={input.name} onInput={text('name')} />
      </label>
      <label>
        Gateway
        <select
          name="gatewayId"
          required
          value={input.gatewayId}
          onChange={(e) => setInput({ ...input, gatewayId: e.currentTarget.value })}
        >
          {gateways.map((g) => (
            <option key={g.id} value={g.id}>
              {g.name} ({g.online ? 'online' : 'offline'})
            </option>
          ))}
        </select>
      </label>
      <div class="field wide">
        <label>
          Connection string
          <input
            name="connectionString"
            required
            value={input.connectionString}
            onInput={text('connectionString')}
            placeholder="mongodb://db.internal:27017 (no user, password or database)"
            aria-describedby="cs-help"
          />
        </label>
        <span id="cs-help" class="help">
          mongodb:// or mongodb+srv://, as the gateway reaches the database; credentials belong to accounts.
        </span>
      </div>
      <label>
        Auth database
        <input name="authDatabase" required value={input.authDatabase} onInput={text('authDatabase')} />
      </label>
      <label class="check">
        <input
          type="checkbox"
          name="tlsEnabled"
          checked={input.tlsEnabled}
          onChange={(e) => setInput({ ...input, tlsEnabled: e.currentTarget.checked })}
        />
        Use TLS
      </label>
      <label class="check">
        <input
          type="checkbox"
          name="tlsRejectUnauthorized"
          checked={input.tlsRejectUnauthorized}
          disabled={!input.tlsEnabled}
          onChange={(e) => setInput({ ...input, tlsRejectUnauthorized: e.currentTarget.checked })}
        />
        Verify the server's certificate
      </label>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {submitLabel}
        </button>
        <ConnectionTestButton
          label="Test these settings"
          run={() => api.post<ConnectionTestDto>('/resources/test-connection', { projectId: project?.id, ...input })}
        />
      </div>
    </form>
  );
}
