/**
 * Sessions: filters (user, resource, account, state, time, flag) and a search across every recorded command. The
 * filters live in the address (`#/sessions?state=active`), so a reload or a shared link shows the same list.
 */
import { useEffect, useState } from 'preact/hooks';
import type { AccountDto, MemberDto, Page, ResourceDto, SessionDto, SessionSearchHit } from '../../protocol/api';
import { RISK_FLAG_IDS } from '../../protocol/session-log';
import { api } from '../api/console-api';
import { useApp } from '../app-state';
import { AnyOptions } from '../components/any-options';
import { ListTable, useCursorList } from '../components/cursor-list';
import { sessionStateText } from '../components/labels';
import { PageTitle } from '../components/page-title';
import { durationText, TimeText } from '../components/time-text';
import { href, navigate } from '../router';

const STATES = ['active', 'ended', 'terminated', 'expired', 'failed'];
const FILTERS = ['q', 'userId', 'resourceId', 'accountId', 'state', 'flag', 'from', 'to'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

function filtersOf(query: URLSearchParams): Filters {
  const filters: Filters = {};
  for (const name of FILTERS) {
    const value = query.get(name);
    if (value) filters[name] = value;
  }
  return filters;
}

/** `datetime-local` values are local times; the API takes ISO times. */
function isoOf(local: string | undefined): string | undefined {
  return local ? new Date(local).toISOString() : undefined;
}

export function SessionsPage({ query }: { query: URLSearchParams }) {
  const { project, isAdmin } = useApp();
  const filters = filtersOf(query);
  const [draft, setDraft] = useState<Filters>(filters);
  const [resources, setResources] = useState<ResourceDto[]>([]);
  const [accounts, setAccounts] = useState<AccountDto[]>([]);
  const [members, setMembers] = useState<MemberDto[]>([]);
  const key = JSON.stringify([project?.id, filters]);
  useEffect(() => setDraft(filters), [key]);

  useEffect(() => {
    if (!project) return;
    api.get<Page<ResourceDto>>('/resources', { projectId: project.id, limit: 500 }).then(
      (p) => setResources(p.items),
      () => undefined,
    );
    if (isAdmin) {
      api.get<Page<MemberDto>>(`/projects/${project.id}/members`, { limit: 500 }).then(
        (p) => setMembers(p.items),
        () => undefined,
      );
    }
  }, [project, isAdmin]);
  useEffect(() => {
    if (!draft.resourceId) return setAccounts([]);
    api.get<Page<AccountDto>>(`/resources/${draft.resourceId}/accounts`, { limit: 500 }).then(
      (p) => setAccounts(p.items),
      () => undefined,
    );
  }, [draft.resourceId]);

  const searching = Boolean(filters.q);
  const sessions = useCursorList<SessionDto>(
    (cursor) =>
      searching
        ? Promise.resolve({ items: [] })
        : api.page<SessionDto>(
            '/sessions',
            { ...filters, projectId: project?.id, from: isoOf(filters.from), to: isoOf(filters.to), q: undefined, limit: 25 },
            cursor,
          ),
    `sessions ${key}`,
  );
  const hits = useCursorList<SessionSearchHit>(
    (cursor) =>
      searching
        ? api.page<SessionSearchHit>(
            '/sessions/search',
            {
              q: filters.q,
              resourceId: filters.resourceId,
              userId: filters.userId,
              from: isoOf(filters.from),
              to: isoOf(filters.to),
              limit: 25,
            },
            cursor,
          )
        : Promise.resolve({ items: [] }),
    `search ${key}`,
  );

  function apply(event: Event) {
    event.preventDefault();
    navigate('/sessions', draft);
  }
  const set = (name: keyof Filters) => (e: { currentTarget: { value: string } }) =>
    setDraft({ ...draft, [name]: e.currentTarget.value || undefined });

  return (
    <>
      <PageTitle>Sessions</PageTitle>
      <form class="filters" aria-label="Filter sessions" onSubmit={apply}>
        <label class="wide">
          Search commands in session logs
          <input type="search" name="q" value={draft.q ?? ''} onInput={set('q')} placeholder="e.g. orders deleteMany" />
        </label>
        {isAdmin && (
          <label>
            User
            <select name="userId" value={draft.userId ?? ''} onChange={set('userId')}>
              <option value="">Anyone</option>
              {members.map((m) => (
                <option key={m.userId} value={m.userId}>
                  {m.email}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          Resource
          <select
            name="resourceId"
            value={draft.resourceId ?? ''}
            onChange={(e) => setDraft({ ...draft, resourceId: e.currentTarget.value || undefined, accountId: undefined })}
          >
            <option value="">Any</option>
            {resources.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Account
          <select
            name="accountId"
            value={draft.accountId ?? ''}
            onChange={set('accountId')}
            disabled={!draft.resourceId || Boolean(draft.q)}
          >
            <option value="">Any</option>
            {accounts.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          State
          <select name="state" value={draft.state ?? ''} onChange={set('state')} disabled={Boolean(draft.q)}>
            <AnyOptions values={STATES} />
          </select>
        </label>
        <label>
          Flag
          <select name="flag" value={draft.flag ?? ''} onChange={set('flag')} disabled={Boolean(draft.q)}>
            <AnyOptions values={RISK_FLAG_IDS} />
          </select>
        </label>
        <label>
          From
          <input type="datetime-local" name="from" value={draft.from ?? ''} onInput={set('from')} />
        </label>
        <label>
          To
          <input type="datetime-local" name="to" value={draft.to ?? ''} onInput={set('to')} />
        </label>
        <div class="actions">
          <button type="submit" class="primary">
            {draft.q ? 'Search' : 'Apply filters'}
          </button>
          <a class="button" href={href('/sessions')}>
            Clear
          </a>
        </div>
      </form>
      {searching ? <SearchHits list={hits} /> : <SessionTable list={sessions} />}
    </>
  );
}

function SessionTable({ list }: { list: ReturnType<typeof useCursorList<SessionDto>> }) {
  return (
    <ListTable
      list={list}
      label="Sessions"
      empty="No sessions match."
      caption="Sessions, newest first"
      columns={[
        'Session',
        'State',
        'User',
        'Resource / account',
        'Started',
        'Duration',
        { label: 'Commands', num: true },
        { label: 'Flags', num: true },
      ]}
      row={(s) => (
        <tr key={s.id}>
          <td>
            <a href={href(`/sessions/${s.id}`)}>{s.id}</a>
          </td>
          <td>
            <span class={`state state-${s.state}`}>{sessionStateText(s)}</span>
          </td>
          <td>{s.userEmail}</td>
          <td>
            {s.resourceName} / {s.accountName}
          </td>
          <td>
            <TimeText iso={s.startedAt ?? s.createdAt} />
          </td>
          <td>{durationText(s.durationSeconds)}</td>
          <td class="num">{s.commands}</td>
          <td class="num">{s.highFlagCount > 0 ? <strong class="flag-high">{s.flagCount}</strong> : s.flagCount}</td>
        </tr>
      )}
    />
  );
}

function SearchHits({ list }: { list: ReturnType<typeof useCursorList<SessionSearchHit>> }) {
  return (
    <ListTable
      list={list}
      label="Search results"
      empty="No recorded command matches."
      caption="Recorded commands that match, newest first"
      columns={['Time', 'Session', 'User', 'Resource / account', 'Command', 'Input']}
      row={(hit) => (
        <tr key={`${hit.sessionId}-${hit.seq}`}>
          <td>
            <TimeText iso={hit.time} />
          </td>
          <td>
            <a href={href(`/sessions/${hit.sessionId}`)}>{hit.sessionId}</a>
          </td>
          <td>{hit.userEmail}</td>
          <td>
            {hit.resourceName} / {hit.accountName}
          </td>
          <td>{hit.kind === 'command' ? hit.command : hit.phase}</td>
          <td>
            <code class="input">{hit.kind === 'command' ? hit.input : ''}</code>
          </td>
        </tr>
      )}
    />
  );
}
