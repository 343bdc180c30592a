/** One resource: its settings (admins edit, delete and test them) and its accounts, paged, with their own actions. */
import { useEffect, useState } from 'preact/hooks';
import type { AccountDto, AccountInput, ConnectionTestDto, ResourceDto, ResourceInput } from '../../protocol/api';
import { api, errorText } from '../api/console-api';
import { useApp } from '../app-state';
import { ConfirmButton } from '../components/confirm-button';
import { ConnectionTestButton } from '../components/connection-test';
import { ListTable, useCursorList } from '../components/cursor-list';
import { ErrorMessage, Notice } from '../components/messages';
import { PageTitle } from '../components/page-title';
import { durationText } from '../components/time-text';
import { href, navigate } from '../router';
import { AccountForm } from './account-form';
import { ResourceForm } from './resource-form';

function policyText(account: AccountDto): string {
  const p = account.policy;
  const parts: string[] = [p.mode];
  if (p.databases.length > 0) parts.push(`databases ${p.databases.join(', ')}`);
  if (p.denied.length > 0) parts.push(`${p.denied.length} denied`);
  if (p.approvalRequired) parts.push('approval required');
  else if (p.reasonRequired) parts.push('reason required');
  return parts.join('; ');
}

export function ResourcePage({ resourceId }: { resourceId: string }) {
  const { isAdmin } = useApp();
  const [resource, setResource] = useState<ResourceDto>();
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [editing, setEditing] = useState(false);
  const [addingAccount, setAddingAccount] = useState(false);
  const [editingAccount, setEditingAccount] = useState<string>();
  const accounts = useCursorList<AccountDto>(
    (cursor) => api.page<AccountDto>(`/resources/${resourceId}/accounts`, { limit: 25 }, cursor),
    `accounts ${resourceId}`,
  );

  useEffect(() => {
    api.get<ResourceDto>(`/resources/${resourceId}`).then(setResource, (e: unknown) => setError(errorText(e)));
  }, [resourceId]);

  async function save(input: ResourceInput) {
    setResource(await api.patch<ResourceDto>(`/resources/${resourceId}`, input));
    setEditing(false);
    setNotice('Saved.');
  }
  async function remove() {
    try {
      await api.delete(`/resources/${resourceId}`);
      navigate('/resources');
    } catch (e) {
      setError(errorText(e));
    }
  }
  async function addAccount(input: Partial<AccountInput>) {
    const created = await api.post<AccountDto>(`/resources/${resourceId}/accounts`, input);
    setAddingAccount(false);
    setNotice(`Account ${created.name} created.`);
    accounts.reload();
  }
  async function saveAccount(id: string, input: Partial<AccountInput>) {
    const saved = await api.patch<AccountDto>(`/accounts/${id}`, input);
    setEditingAccount(undefined);
    setNotice(`Account ${saved.name} saved.`);
    accounts.reload();
  }
  async function removeAccount(account: AccountDto) {
    try {
      await api.delete(`/accounts/${account.id}`);
      setNotice(`Account ${account.name} deleted.`);
      accounts.reload();
    } catch (e) {
      setError(errorText(e));
    }
  }

  return (
    <>
      <p class="breadcrumb">
        <a href={href('/resources')}>Resources</a>
      </p>
      <PageTitle>Resource {resource?.name ?? ''}</PageTitle>
      {error && <ErrorMessage text={error} />}
      {notice && <Notice text={notice} />}
      {resource && !editing && (
        <>
          <dl class="facts">
            <dt>Gateway</dt>
            <dd>
              {resource.gatewayName} ({resource.gatewayOnline ? 'online' : 'offline'})
            </dd>
            <dt>Connection string</dt>
            <dd>
              <code>{resource.connectionString}</code>
            </dd>
            <dt>Auth database</dt>
            <dd>{resource.authDatabase}</dd>
            <dt>TLS</dt>
            <dd>
              {resource.tlsEnabled
                ? `on${resource.tlsRejectUnauthorized ? '' : ', certificate not verified'}${resource.hasCaCertificate ? ', private CA' : ''}`
                : 'off'}
            </dd>
          </dl>
          {isAdmin && (
            <div class="actions">
              <ConnectionTestButton run={() => api.post<ConnectionTestDto>(`/resources/${resourceId}/test-connection`)} />
              <button type="button" onClick={() => setEditing(true)}>
                Edit resource
              </button>
              <ConfirmButton
                label="Delete resource"
                question={`Delete ${resource.name} and its accounts?`}
                onConfirm={() => void remove()}
              />
            </div>
          )}
        </>
      )}
      {resource && editing && <ResourceForm initial={resource} submitLabel="Save resource" onSaved={save} />}

      <h2>Accounts</h2>
      {isAdmin &&
        (addingAccount ? (
          <AccountForm submitLabel="Create account" onSaved={addAccount} />
        ) : (
          <button type="button" class="primary" onClick={() => setAddingAccount(true)}>
            Add account
          </button>
        ))}
      <ListTable
        list={accounts}
        label="Accounts"
        empty="No accounts yet."
        caption="Accounts of this resource"
        columns={[...['Name', 'Database user', 'MFA', 'Longest session', 'Policy', 'Description'], ...(isAdmin ? ['Actions'] : [])]}
        row={(a) => (
          <tr key={a.id}>
            <td>{a.name}</td>
            <td>{a.username}</td>
            <td>{a.mfaRequired ? 'required' : 'no'}</td>
            <td>{durationText(a.maxSessionDurationSeconds)}</td>
            <td>{policyText(a)}</td>
            <td>{a.description || '-'}</td>
            {isAdmin && (
              <td class="row-actions">
                {editingAccount === a.id ? (
                  <>
                    <AccountForm initial={a} submitLabel="Save account" onSaved={(input) => saveAccount(a.id, input)} />
                    <button type="button" onClick={() => setEditingAccount(undefined)}>
                      Cancel
                    </button>
                  </>
                ) : (
                  <>
                    <ConnectionTestButton
                      label={`Test ${a.name}`}
                      run={() => api.post<ConnectionTestDto>(`/accounts/${a.id}/test-connection`)}
                    />
                    <button type="button" onClick={() => setEditingAccount(a.id)} aria-label={`Edit ${a.name}`}>
                      Edit
                    </button>
                    <ConfirmButton
                      label={`Delete ${a.name}`}
                      question={`Delete the account ${a.name}?`}
                      onConfirm={() => void removeAccount(a)}
                    />
                  </>
                )}
              </td>
            )}
          </tr>
        )}
      />
    </>
  );
}
