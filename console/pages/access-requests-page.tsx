/** Access requests: admins decide the project's pending ones (not their own); everyone sees and cancels their own. */
import { useState } from 'preact/hooks';
import type { AccessRequestDto, AccessRequestState } from '../../protocol/api';
import { api, errorText } from '../api/console-api';
import { useApp } from '../app-state';
import { AnyOptions } from '../components/any-options';
import { ListTable, useCursorList } from '../components/cursor-list';
import { ErrorMessage, Notice } from '../components/messages';
import { PageTitle } from '../components/page-title';
import { durationText, TimeText } from '../components/time-text';

const STATES: AccessRequestState[] = ['pending', 'approved', 'denied', 'cancelled', 'expired'];

export function AccessRequestsPage() {
  const { project, isAdmin, session } = useApp();
  const [state, setState] = useState<AccessRequestState | ''>('pending');
  const [notes, setNotes] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const list = useCursorList<AccessRequestDto>(
    (cursor) => api.page<AccessRequestDto>('/access-requests', { projectId: project?.id, state: state || undefined, limit: 25 }, cursor),
    `requests ${project?.id} ${state}`,
  );

  async function decide(request: AccessRequestDto, verb: 'approve' | 'deny' | 'cancel') {
    setError(undefined);
    try {
      const note = notes[request.id]?.trim();
      await api.post(`/access-requests/${request.id}/${verb}`, verb === 'cancel' || !note ? {} : { note });
      setNotice(
        `${request.requesterEmail}'s request for ${request.resourceName} / ${request.accountName}: ${verb === 'approve' ? 'approved' : verb === 'deny' ? 'denied' : 'cancelled'}.`,
      );
      list.reload();
    } catch (e) {
      setError(errorText(e));
    }
  }

  return (
    <>
      <PageTitle>Access requests</PageTitle>
      {error && <ErrorMessage text={error} />}
      {notice && <Notice text={notice} />}
      <div class="filters">
        <label>
          State
          <select name="requestState" value={state} onChange={(e) => setState(e.currentTarget.value as AccessRequestState | '')}>
            <AnyOptions values={STATES} />
          </select>
        </label>
      </div>
      <ListTable
        list={list}
        label="Access requests"
        empty="No access requests."
        caption="Access requests, newest first"
        columns={['Requester', 'Resource / account', 'For', 'Reason', 'Asked', 'State', 'Actions']}
        row={(r) => {
          const own = r.requesterUserId === session.user.id;
          return (
            <tr key={r.id}>
              <td>{r.requesterEmail}</td>
              <td>
                {r.resourceName} / {r.accountName}
              </td>
              <td>{durationText(r.durationSeconds)}</td>
              <td>{r.reason}</td>
              <td>
                <TimeText iso={r.createdAt} />
              </td>
              <td>
                {r.state}
                {r.decidedByEmail ? ` by ${r.decidedByEmail}` : ''}
                {r.note ? `: ${r.note}` : ''}
              </td>
              <td class="row-actions">
                {r.state === 'pending' && isAdmin && !own && (
                  <>
                    <input
                      aria-label={`Note for ${r.requesterEmail}`}
                      placeholder="Note (optional)"
                      value={notes[r.id] ?? ''}
                      onInput={(e) => setNotes({ ...notes, [r.id]: e.currentTarget.value })}
                    />
                    <button type="button" class="primary" onClick={() => void decide(r, 'approve')}>
                      Approve
                    </button>
                    <button type="button" class="danger" onClick={() => void decide(r, 'deny')}>
                      Deny
                    </button>
                  </>
                )}
                {r.state === 'pending' && own && (
                  <button type="button" onClick={() => void decide(r, 'cancel')}>
                    Cancel request
                  </button>
                )}
              </td>
            </tr>
          );
        }}
      />
    </>
  );
}
