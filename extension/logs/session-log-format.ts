import type { SessionDto } from '../../protocol/api';
import type { CommandEvent, ConnectionEvent, StoredSessionLogEvent } from '../../protocol/session-log';
import { displayText } from '../../proxy-core/display-text';
import { formatDuration, formatMillis } from './duration-format';
import { formatExpiry, formatLocalDate, formatLocalDateTime, formatLocalTime, utcOffsetLabel } from './local-time';

/** Lines are cut to this width, so a log reads in a narrow editor without a horizontal scroll. */
export const LOG_WIDTH = 90;
/** The margin every entry starts with: `!! ` high-severity flag, `!  ` another flag, blank otherwise. */
const MARK_WIDTH = 3;
/** Where the command text and the notes under an entry start. */
const BODY_INDENT = ' '.repeat(MARK_WIDTH + 2);

export interface RenderOptions {
  now?: Date;
  /** The document follows the session while it runs (said in the header, so the reader knows it moves). */
  live?: boolean;
  /** The control plane could not be reached at the last refresh: what is shown is as of `at`. */
  stale?: { at: Date; error: string };
}

/**
 * Renders a session and its log as a plain-text document: a header (who, state, times, counts), then one entry per
 * command in the order recorded: its time, database and collection, name and outcome on one line, the flags and the
 * command text (masked as the gateway stored it) under it, wrapped. Connection events are one-line entries in the
 * same order; once the session ended, a last line says how. Plain text so it reads the same in any editor theme and
 * can be searched, copied and saved. Times are the viewer's local time. Every name and message comes from users,
 * clients or databases, so each is escaped (displayText): a line break in a collection name cannot forge an entry,
 * nor U+202E reverse one.
 */
export function renderSessionLog(session: SessionDto, events: StoredSessionLogEvent[], options: RenderOptions = {}): string {
  const now = options.now ?? new Date();
  const active = isActive(session);
  const lines: string[] = [];
  lines.push(`Session ${session.id}: ${displayText(session.resourceName)} / ${displayText(session.accountName)}`);
  lines.push(field('User', displayText(session.userEmail)));
  lines.push(
    field('State', active && options.live ? `${describeState(session)} (this log follows it, every 2 s)` : describeState(session)),
  );
  if (options.stale) {
    lines.push(
      ...wrapField(
        'Offline',
        `reconnecting: shown as of ${formatLocalTime(options.stale.at)}; the server could not be reached (${displayText(options.stale.error)})`,
      ),
    );
  }
  lines.push(field('Started', formatLocalDateTime(session.startedAt ?? session.createdAt)));
  if (active) lines.push(field('Expires', formatExpiry(session.expiresAt, now)));
  if (session.endedAt) lines.push(field('Ended', formatLocalDateTime(session.endedAt)));
  lines.push(field('Duration', formatDuration(sessionDurationSeconds(session, now))));
  lines.push(field('Commands', countsOf(session)));
  if (session.flagCount) {
    lines.push(
      field(
        'Flags',
        `${session.flagCount}${session.highFlagCount ? ` (${session.highFlagCount} high)` : ''}; flagged entries start with !! (high) or ! (other)`,
      ),
    );
  }
  if (session.clientAgent) {
    lines.push(
      field('Client', `${displayText(session.clientAgent)}${session.clientAddress ? ` from ${displayText(session.clientAddress)}` : ''}`),
    );
  }
  if (session.reason) lines.push(...wrapField('Reason', displayText(session.reason)));
  lines.push(field('Times', `local (${utcOffsetLabel(session.startedAt ?? session.createdAt)})`));
  lines.push('');

  const ordered = [...events].sort((a, b) => a.seq - b.seq);
  if (ordered.length === 0) {
    lines.push(active ? 'No commands recorded yet.' : 'No commands were recorded.');
  } else {
    let day = formatLocalDate(session.startedAt ?? session.createdAt);
    for (const event of ordered) {
      // Entries show the time of day; a session that runs past midnight says so where the date changes.
      const eventDay = formatLocalDate(event.time);
      if (eventDay !== day) {
        lines.push(`${' '.repeat(MARK_WIDTH)}--- ${eventDay} ---`);
        day = eventDay;
      }
      lines.push(...(event.kind === 'command' ? commandEntry(event) : connectionEntry(event)));
    }
  }
  if (!active) {
    lines.push('');
    lines.push(...wrap(endLine(session), LOG_WIDTH, '  ', ''));
  }
  return `${lines.join('\n')}\n`;
}

function commandEntry(event: CommandEvent): string[] {
  const flags = event.flags ?? [];
  const mark = flags.some((f) => f.severity === 'high') ? '!!' : flags.length > 0 ? '!' : '';
  const where = event.collection ? `${displayText(event.database)}.${displayText(event.collection)}` : displayText(event.database);
  const facts = [
    outcomeOf(event),
    countOf(event),
    formatMillis(event.durationMs),
    event.transaction ? `transaction ${event.transaction}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  const lines = wrap(
    `${formatLocalTime(event.time)}  ${where}  ${displayText(event.command)}: ${facts}`,
    LOG_WIDTH,
    BODY_INDENT,
    mark.padEnd(MARK_WIDTH),
  );
  for (const flag of flags) {
    lines.push(
      ...wrap(
        `${flag.severity === 'high' ? '!!' : '!'} ${flag.id} (${flag.severity}): ${displayText(flag.detail)}`,
        LOG_WIDTH,
        BODY_INDENT,
      ),
    );
  }
  if (event.errorMessage && (event.outcome !== 'ok' || event.errorName)) {
    lines.push(...wrap(`${event.outcome === 'unknown' ? 'why' : 'error'}: ${displayText(event.errorMessage)}`, LOG_WIDTH, BODY_INDENT));
  }
  if (event.input)
    lines.push(...wrap(displayText(event.input) + (event.truncated ? ' (cut to the size limit)' : ''), LOG_WIDTH, BODY_INDENT));
  return lines;
}

function connectionEntry(event: ConnectionEvent): string[] {
  const text = `${formatLocalTime(event.time)}  connection ${displayText(event.connectionId)} ${event.phase}${event.message ? `: ${displayText(event.message)}` : ''}`;
  return wrap(text, LOG_WIDTH, BODY_INDENT, ' '.repeat(MARK_WIDTH));
}

function outcomeOf(event: CommandEvent): string {
  switch (event.outcome) {
    case 'refused':
      return `refused by policy${event.policy ? ` (${event.policy})` : ''}`;
    case 'error':
      return `error${event.errorName ? ` ${displayText(event.errorName)}` : ''}${event.errorCode !== undefined ? ` (${event.errorCode})` : ''}`;
    case 'unknown':
      return 'outcome unknown';
    default:
      return 'ok';
  }
}

function countOf(event: CommandEvent): string {
  if (event.documents !== undefined) return plural(event.documents, 'document');
  if (event.affected !== undefined) return `${event.affected} affected`;
  return '';
}

function countsOf(session: SessionDto): string {
  return `${session.commands} on ${plural(session.connections, 'connection')}`;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The last line of an ended session's log: how it ended, when, after how long, with what counts. */
function endLine(session: SessionDto): string {
  const at = session.endedAt ? ` at ${formatLocalDateTime(session.endedAt)}` : '';
  return `Session ${describeState(session)}${at} after ${formatDuration(session.durationSeconds)}: ${plural(session.commands, 'command')} on ${plural(session.connections, 'connection')}.`;
}

function field(name: string, value: string): string {
  return `${`${name}:`.padEnd(10)}${value}`;
}

function wrapField(name: string, value: string): string[] {
  return wrap(value, LOG_WIDTH, ' '.repeat(10), field(name, ''));
}

/**
 * Cuts `text` into lines of at most `width` characters: the first starts with `first`, the others with `indent`.
 * A line breaks after a space or a comma near its end where there is one (JSON breaks between fields), anywhere
 * otherwise.
 */
export function wrap(text: string, width: number, indent: string, first: string = indent): string[] {
  const lines: string[] = [];
  let rest = text;
  let prefix = first;
  for (;;) {
    const room = Math.max(20, width - prefix.length);
    if (rest.length <= room) break;
    const from = Math.floor(room * 0.6);
    const window = rest.slice(from, room);
    const breakAt = Math.max(window.lastIndexOf(' '), window.lastIndexOf(','));
    const cut = breakAt >= 0 ? from + breakAt + 1 : room;
    lines.push(prefix + rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
    prefix = indent;
  }
  if (rest.length > 0 || lines.length === 0) lines.push(prefix + rest);
  return lines;
}

function isActive(session: SessionDto): boolean {
  return session.state === 'active' || session.state === 'starting';
}

const REASON_TEXT: Record<string, string> = {
  stopped: 'stopped',
  expired: 'expired',
  terminated: 'terminated',
  idle: 'idle',
  gateway_offline: 'gateway offline',
  failed: 'failed',
};

/**
 * `active`, `ended (stopped)`, `ended (gateway offline)`, `terminated by admin@example.com`: the state once, with
 * the end reason only where it says more than the state (`terminated`, `expired`, `failed` carry their reason).
 */
export function describeState(session: SessionDto): string {
  if (isActive(session)) return session.state;
  const reason = session.endReason ? (REASON_TEXT[session.endReason] ?? session.endReason.replace(/_/g, ' ')) : '';
  // Who ended it, when someone other than its user did (an admin's terminate): one's own stop needs no name.
  const by = session.endedBy && session.endedBy !== session.userEmail ? ` by ${displayText(session.endedBy)}` : '';
  return reason && reason !== session.state ? `${session.state} (${reason})${by}` : `${session.state}${by}`;
}

/** Live for an active session (the server's figure is as of the request), the server's figure otherwise. */
export function sessionDurationSeconds(session: SessionDto, now: Date = new Date()): number {
  if (session.state !== 'active') return session.durationSeconds;
  const start = Date.parse(session.startedAt ?? session.createdAt);
  return Number.isNaN(start) ? session.durationSeconds : Math.max(0, (now.getTime() - start) / 1000);
}
