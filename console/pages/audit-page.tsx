/** The project's audit log, newest first, paged; filtered by action. */
import { useState } from 'preact/hooks';
import type { AuditEventDto } from '../../protocol/api';
import { api } from '../api/console-api';
import { useApp } from '../app-state';
import { ListTable, useCursorList } from '../components/cursor-list';
import { PageTitle } from '../components/page-title';
import { TimeText } from '../components/time-text';

function detailsText(details: Record<string, unknown>): string {
  const text = JSON.stringify(details);
  return text === '{}' ? '' : text;
}

export function AuditPage() {
  const { project } = useApp();
  const [draft, setDraft] = useState('');
  const [action, setAction] = useState('');
  const list = useCursorList<AuditEventDto>(
    (cursor) => api.page<AuditEventDto>(`/projects/${project?.id}/audit`, { action: action || undefined, limit: 50 }, cursor),
    `audit ${project?.id} ${action}`,
  );
  return (
    <>
      <PageTitle>Audit log</PageTitle>
      <form
        class="filters"
        aria-label="Filter the audit log"
        onSubmit={(e) => {
          e.preventDefault();
          setAction(draft.trim());
        }}
      >
        <label>
          Action
          <input name="action" value={draft} onInput={(e) => setDraft(e.currentTarget.value)} placeholder="e.g. session.terminated" />
        </label>
        <div class="actions">
          <button type="submit" class="primary">
            Filter
          </button>
        </div>
      </form>
      <ListTable
        list={list}
        label="Audit log"
        empty="Nothing recorded."
        caption="Audit events, newest first"
        columns={['Time', 'Actor', 'Action', 'Target', 'Details']}
        row={(e) => (
          <tr key={e.id}>
            <td>
              <TimeText iso={e.time} />
            </td>
            <td>{e.actorEmail ?? 'system'}</td>
            <td>{e.action}</td>
            <td>
              {e.targetType} {e.targetId ?? ''}
            </td>
            <td>
              <code class="input">{detailsText(e.details)}</code>
            </td>
          </tr>
        )}
      />
    </>
  );
}
