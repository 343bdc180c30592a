/** Members and roles: who is in the project, as admin or member; add, change a role, remove. */
import { useState } from 'preact/hooks';
import type { AddMemberRequest, MemberDto, Role } from '../../protocol/api';
import { api, errorText } from '../api/console-api';
import { useApp } from '../app-state';
import { ConfirmButton } from '../components/confirm-button';
import { ListTable, useCursorList } from '../components/cursor-list';
import { ErrorMessage, Notice } from '../components/messages';
import { PageTitle } from '../components/page-title';
import { TimeText } from '../components/time-text';

export function MembersPage() {
  const { project, session } = useApp();
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [draft, setDraft] = useState<AddMemberRequest>({ email: '', role: 'member', name: '', password: '' });
  const base = `/projects/${project?.id}/members`;
  const list = useCursorList<MemberDto>((cursor) => api.page<MemberDto>(base, { limit: 25 }, cursor), base);

  async function run(action: () => Promise<unknown>, done: string) {
    setError(undefined);
    try {
      await action();
      setNotice(done);
      list.reload();
    } catch (e) {
      setError(errorText(e));
    }
  }
  async function add(event: Event) {
    event.preventDefault();
    const body: AddMemberRequest = { email: draft.email, role: draft.role };
    if (draft.name) body.name = draft.name;
    if (draft.password) body.password = draft.password;
    await run(() => api.post(base, body), `${draft.email} added as ${draft.role}.`);
    setDraft({ email: '', role: 'member', name: '', password: '' });
  }

  return (
    <>
      <PageTitle>Members and roles</PageTitle>
      <p class="lead">
        Admins manage gateways, resources, accounts and members, see everyone's sessions and the audit log, and decide access requests.
        Members access accounts and see their own sessions.
      </p>
      {error && <ErrorMessage text={error} />}
      {notice && <Notice text={notice} />}
      <ListTable
        list={list}
        label="Members"
        empty="No members."
        caption="Members of the project"
        columns={['Email', 'Name', 'Role', 'Since', 'Actions']}
        row={(m) => (
          <tr key={m.userId}>
            <td>{m.email}</td>
            <td>{m.name}</td>
            <td>
              <select
                aria-label={`Role of ${m.email}`}
                value={m.role}
                disabled={m.userId === session.user.id}
                onChange={(e) => {
                  const role = e.currentTarget.value as Role;
                  void run(() => api.patch(`${base}/${m.userId}`, { role }), `${m.email} is now ${role}.`);
                }}
              >
                <option value="admin">admin</option>
                <option value="member">member</option>
              </select>
            </td>
            <td>
              <TimeText iso={m.createdAt} />
            </td>
            <td>
              {m.userId !== session.user.id && (
                <ConfirmButton
                  label={`Remove ${m.email}`}
                  question={`Remove ${m.email}? Their running sessions end.`}
                  onConfirm={() => void run(() => api.delete(`${base}/${m.userId}`), `${m.email} removed.`)}
                />
              )}
            </td>
          </tr>
        )}
      />
      <h2>Add a member</h2>
      <form class="card form" onSubmit={add}>
        <label>
          Email
          <input
            type="email"
            name="memberEmail"
            required
            value={draft.email}
            onInput={(e) => setDraft({ ...draft, email: e.currentTarget.value })}
          />
        </label>
        <label>
          Role
          <select name="memberRole" value={draft.role} onChange={(e) => setDraft({ ...draft, role: e.currentTarget.value as Role })}>
            <option value="member">member</option>
            <option value="admin">admin</option>
          </select>
        </label>
        <label>
          Name (new users)
          <input name="memberName" value={draft.name} onInput={(e) => setDraft({ ...draft, name: e.currentTarget.value })} />
        </label>
        <label>
          Initial password (new users only)
          <input
            type="password"
            name="memberPassword"
            autoComplete="new-password"
            value={draft.password}
            onInput={(e) => setDraft({ ...draft, password: e.currentTarget.value })}
          />
        </label>
        <div class="actions">
          <button type="submit" class="primary">
            Add member
          </button>
        </div>
      </form>
    </>
  );
}
