/** Resources of the project (paged); admins add one here. */
import { useState } from 'preact/hooks';
import type { ResourceDto, ResourceInput } from '../../protocol/api';
import { api } from '../api/console-api';
import { useApp } from '../app-state';
import { ListTable, useCursorList } from '../components/cursor-list';
import { PageTitle } from '../components/page-title';
import { TimeText } from '../components/time-text';
import { href, navigate } from '../router';
import { ResourceForm } from './resource-form';

export function ResourcesPage() {
  const { project, isAdmin } = useApp();
  const [adding, setAdding] = useState(false);
  const list = useCursorList<ResourceDto>(
    (cursor) => api.page<ResourceDto>('/resources', { projectId: project?.id, limit: 25 }, cursor),
    `resources ${project?.id}`,
  );

  async function create(input: ResourceInput) {
    const created = await api.post<ResourceDto>('/resources', { projectId: project?.id, ...input });
    navigate(`/resources/${created.id}`);
  }

  return (
    <>
      <PageTitle>Resources</PageTitle>
      <p class="lead">
        A resource is a MongoDB deployment that one of the project's gateways reaches; its accounts are the database users sessions sign in
        as.
      </p>
      {isAdmin &&
        (adding ? (
          <section aria-labelledby="add-resource">
            <h2 id="add-resource">Add a resource</h2>
            <ResourceForm submitLabel="Create resource" onSaved={create} />
          </section>
        ) : (
          <button type="button" class="primary" onClick={() => setAdding(true)}>
            Add resource
          </button>
        ))}
      <ListTable
        list={list}
        label="Resources"
        empty={isAdmin ? 'No resources yet: add one.' : 'No resources yet: an admin adds them.'}
        caption="Resources"
        columns={['Name', 'Gateway', 'Connection string', 'TLS', 'Created']}
        row={(r) => (
          <tr key={r.id}>
            <td>
              <a href={href(`/resources/${r.id}`)}>{r.name}</a>
            </td>
            <td>
              {r.gatewayName} <span class={r.gatewayOnline ? 'ok' : 'failed'}>({r.gatewayOnline ? 'online' : 'offline'})</span>
            </td>
            <td>
              <code>{r.connectionString}</code>
            </td>
            <td>{r.tlsEnabled ? (r.tlsRejectUnauthorized ? 'on' : 'on, unverified') : 'off'}</td>
            <td>
              <TimeText iso={r.createdAt} />
            </td>
          </tr>
        )}
      />
    </>
  );
}
