/**
 * One session: its facts, and its command log, which follows the session while it runs (the page asks for what came
 * after the last page it has, every second). Admins of the project can terminate a running session from here.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { SessionDto, SessionLogPage } from '../../protocol/api';
import type { StoredSessionLogEvent } from '../../protocol/session-log';
import { api, errorText } from '../api/console-api';
import { useApp } from '../app-state';
import { ConfirmButton } from '../components/confirm-button';
import { outcomeText, sessionStateText } from '../components/labels';
import { ErrorMessage, Notice } from '../components/messages';
import { PageTitle } from '../components/page-title';
import { TableHead } from '../components/table-head';
import { durationText, TimeText } from '../components/time-text';

const FOLLOW_MS = 1000;
const LOG_PAGE = 200;

/**
 * The log as pages: `done` holds full pages; the tail is re-read from the cursor that starts it until the API
 * gives a cursor after it (the page filled), so new events arrive without reading the whole log again.
 */
function useSessionLog(sessionId: string, running: boolean) {
  const [events, setEvents] = useState<StoredSessionLogEvent[]>([]);
  const [error, setError] = useState<string>();
  const [more, setMore] = useState(false);
  const state = useRef({ done: [] as StoredSessionLogEvent[], tailCursor: undefined as string | undefined, stopped: false });

  async function readTail(): Promise<boolean> {
    const s = state.current;
    const page = await api.get<SessionLogPage>(`/sessions/${sessionId}/logs`, { limit: LOG_PAGE, cursor: s.tailCursor });
    if (s.stopped) return false;
    if (page.nextCursor) {
      s.done = [...s.done, ...page.items];
      s.tailCursor = page.nextCursor;
      setEvents(s.done);
      return true;
    }
    setEvents([...s.done, ...page.items]);
    return false;
  }

  // First the pages there are, one by one on request (Load more); then, while running, the tail every second.
  useEffect(() => {
    const s = state.current;
    s.stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const full = await readTail();
        setMore(full);
        setError(undefined);
        if (running && !s.stopped) timer = setTimeout(tick, full ? 0 : FOLLOW_MS);
      } catch (e) {
        setError(errorText(e));
        if (running && !s.stopped) timer = setTimeout(tick, FOLLOW_MS * 3);
      }
    };
    if (running || s.done.length === 0) void tick();
    return () => {
      s.stopped = true;
      clearTimeout(timer);
    };
  }, [sessionId, running]);

  return {
    events,
    error,
    more,
    loadMore: () =>
      readTail().then(
        (full) => setMore(full),
        (e: unknown) => setError(errorText(e)),
      ),
  };
}

export function SessionPage({ sessionId }: { sessionId: string }) {
  const { isAdmin } = useApp();
  const [session, setSession] = useState<SessionDto>();
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const running = session?.state === 'active' || session?.state === 'starting';
  const log = useSessionLog(sessionId, running);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const load = async () => {
      try {
        const s = await api.get<SessionDto>(`/sessions/${sessionId}`);
        if (stopped) return;
        setSession(s);
        setError(undefined);
        if (s.state === 'active' || s.state === 'starting') timer = setTimeout(load, FOLLOW_MS * 2);
      } catch (e) {
        if (!stopped) setError(errorText(e));
      }
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [sessionId]);

  async function terminate() {
    try {
      setSession(await api.post<SessionDto>(`/sessions/${sessionId}/terminate`));
      setNotice('The session was terminated; its connections are closed.');
    } catch (e) {
      setError(errorText(e));
    }
  }

  return (
    <>
      <PageTitle>Session {sessionId}</PageTitle>
      {error && <ErrorMessage text={error} />}
      {notice && <Notice text={notice} />}
      {session && (
        <>
          <dl class="facts">
            <dt>State</dt>
            <dd>
              <span class={`state state-${session.state}`} data-testid="session-state">
                {sessionStateText(session)}
              </span>
              {session.endedBy && ` by ${session.endedBy}`}
            </dd>
            <dt>User</dt>
            <dd>{session.userEmail}</dd>
            <dt>Resource / account</dt>
            <dd>
              {session.resourceName} / {session.accountName}
            </dd>
            <dt>Started</dt>
            <dd>
              <TimeText iso={session.startedAt ?? session.createdAt} />
            </dd>
            <dt>{running ? 'Expires' : 'Ended'}</dt>
            <dd>
              <TimeText iso={running ? session.expiresAt : session.endedAt} />
            </dd>
            <dt>Duration</dt>
            <dd>{durationText(session.durationSeconds)}</dd>
            <dt>Connections / commands</dt>
            <dd>
              {session.connections} / {session.commands}
            </dd>
            <dt>Client</dt>
            <dd>{[session.clientAddress, session.clientAgent].filter(Boolean).join(', ') || '-'}</dd>
            {session.reason && (
              <>
                <dt>Reason</dt>
                <dd>{session.reason}</dd>
              </>
            )}
          </dl>
          {isAdmin && running && (
            <div class="actions danger-zone">
              <ConfirmButton
                label="Terminate session"
                question="Terminate this session and cut its connections now?"
                onConfirm={() => void terminate()}
              />
            </div>
          )}
        </>
      )}
      <h2>Command log {running && <span class="live">(live)</span>}</h2>
      {log.error && log.error !== error && <ErrorMessage text={log.error} />}
      <LogTable events={log.events} />
      {log.more && !running && (
        <button type="button" onClick={() => void log.loadMore()}>
          Load more
        </button>
      )}
    </>
  );
}

function LogTable({ events }: { events: StoredSessionLogEvent[] }) {
  if (events.length === 0) return <p class="empty">Nothing recorded yet.</p>;
  return (
    <table class="log" aria-live="polite" aria-relevant="additions">
      <TableHead
        caption="Recorded commands and connections, oldest first"
        columns={[
          'Time',
          'Database',
          'Command',
          'Collection',
          'Outcome',
          { label: 'Docs', num: true },
          { label: 'ms', num: true },
          'Flags',
        ]}
      />
      <tbody>
        {events.map((e, i) =>
          e.kind === 'command' ? (
            <tr key={i} class={e.flags?.some((f) => f.severity === 'high') ? 'flagged-high' : e.flags?.length ? 'flagged' : ''}>
              <td>
                <TimeText iso={e.time} />
              </td>
              <td>{e.database}</td>
              <td>
                <strong>{e.command}</strong>
                <code class="input">{e.input}</code>
              </td>
              <td>{e.collection ?? '-'}</td>
              <td>{outcomeText(e)}</td>
              <td class="num">{e.documents ?? e.affected ?? '-'}</td>
              <td class="num">{e.durationMs}</td>
              <td>{e.flags?.map((f) => `${f.severity === 'high' ? '!!' : '!'} ${f.id}: ${f.detail}`).join('; ') || '-'}</td>
            </tr>
          ) : (
            <tr key={i} class="connection">
              <td>
                <TimeText iso={e.time} />
              </td>
              <td colSpan={7}>
                connection {e.phase}
                {e.message ? `: ${e.message}` : ''}
              </td>
            </tr>
          ),
        )}
      </tbody>
    </table>
  );
}
