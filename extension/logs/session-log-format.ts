import type { SessionDto } from '../../protocol/api';
import type { StoredSessionLogEvent } from '../../protocol/session-log';
import { displayText } from '../../proxy-core/display-text';
import { formatDuration, formatMillis } from './duration-format';

const COLUMNS = ['Time', 'Database', 'Command', 'Collection', 'Outcome', 'Documents', 'Duration', 'Transaction', 'Flags'] as const;

/**
 * Renders a session and its log as a plain-text document: a header, then one table row per command, with
 * connection events as indented notes in time order. Plain text so it reads the same in any editor theme
 * and can be searched, copied and saved. Every name and message comes from users, clients or databases, so each
 * is escaped (displayText): a line break in a collection name cannot forge a row, nor U+202E reverse one.
 */
export function renderSessionLog(session: SessionDto, events: StoredSessionLogEvent[], now: Date = new Date()): string {
  const lines: string[] = [];
  lines.push(`Session ${session.id}: ${displayText(session.resourceName)} / ${displayText(session.accountName)}`);
  lines.push(`User:     ${displayText(session.userEmail)}`);
  lines.push(`State:    ${describeState(session)}`);
  lines.push(`Started:  ${session.startedAt ?? session.createdAt}`);
  if (session.endedAt) lines.push(`Ended:    ${session.endedAt}`);
  lines.push(`Duration: ${formatDuration(sessionDurationSeconds(session, now))}`);
  if (session.clientAgent) {
    lines.push(
      `Client:   ${displayText(session.clientAgent)}${session.clientAddress ? ` from ${displayText(session.clientAddress)}` : ''}`,
    );
  }
  if (session.reason) lines.push(`Reason:   ${displayText(session.reason)}`);
  if (session.flagCount) {
    lines.push(
      `Flags:    ${session.flagCount}${session.highFlagCount ? ` (${session.highFlagCount} high)` : ''}; flagged rows start with !! (high) or ! (other)`,
    );
  }
  lines.push(`Commands: ${session.commands}, connections: ${session.connections}`);
  lines.push('');

  const ordered = [...events].sort((a, b) => a.seq - b.seq);
  const rows: string[][] = [];
  /** Per row: `!!` high-severity flag, `! ` another flag, blank otherwise; a margin a reviewer scans down. */
  const marks: string[] = [];
  const notes = new Map<number, string[]>();
  for (const event of ordered) {
    if (event.kind === 'command') {
      rows.push([
        event.time,
        displayText(event.database),
        displayText(event.command),
        displayText(event.collection ?? ''),
        event.outcome === 'refused'
          ? `refused by policy${event.policy ? ` (${event.policy})` : ''}`
          : event.outcome !== 'error'
            ? event.outcome
            : `error${event.errorName ? ` ${displayText(event.errorName)}` : event.errorCode !== undefined ? ` ${event.errorCode}` : ''}`,
        event.documents !== undefined ? String(event.documents) : event.affected !== undefined ? `${event.affected} affected` : '',
        formatMillis(event.durationMs),
        // Which commands a commit or an abort covered: the same id on each.
        event.transaction ?? '',
        (event.flags ?? []).map((f) => `${f.id}: ${displayText(f.detail)}`).join('; '),
      ]);
      marks.push(event.flags?.some((f) => f.severity === 'high') ? '!!' : event.flags?.length ? '! ' : '  ');
    } else {
      const text = `  ${event.time}  connection ${event.connectionId} ${event.phase}${event.message ? `: ${displayText(event.message)}` : ''}`;
      const at = rows.length;
      notes.set(at, [...(notes.get(at) ?? []), text]);
    }
  }
  if (rows.length === 0 && notes.size === 0) {
    lines.push('No commands recorded yet.');
    return `${lines.join('\n')}\n`;
  }
  const widths = COLUMNS.map((title, i) => Math.max(title.length, ...rows.map((r) => r[i].length)));
  const format = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  lines.push(`   ${format(COLUMNS)}`);
  lines.push(`   ${format(widths.map((w) => '-'.repeat(w)))}`);
  for (let i = 0; i <= rows.length; i++) {
    for (const note of notes.get(i) ?? []) lines.push(note);
    if (i < rows.length) lines.push(`${marks[i]} ${format(rows[i])}`);
  }
  return `${lines.join('\n')}\n`;
}

export function describeState(session: SessionDto): string {
  if (session.state === 'active' || session.state === 'starting') return session.state;
  return session.endReason ? `${session.state} (${session.endReason.replace('_', ' ')})` : session.state;
}

/** Live for an active session (the server's figure is as of the request), the server's figure otherwise. */
export function sessionDurationSeconds(session: SessionDto, now: Date = new Date()): number {
  if (session.state !== 'active') return session.durationSeconds;
  const start = Date.parse(session.startedAt ?? session.createdAt);
  return Number.isNaN(start) ? session.durationSeconds : Math.max(0, (now.getTime() - start) / 1000);
}
