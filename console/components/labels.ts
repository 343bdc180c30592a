/** How the pages name states and outcomes, in words. */
import type { SessionDto } from '../../protocol/api';
import type { CommandEvent, StoredSessionLogEvent } from '../../protocol/session-log';

export function sessionStateText(session: Pick<SessionDto, 'state' | 'endReason'>): string {
  return session.endReason ? `${session.state} (${session.endReason.replace('_', ' ')})` : session.state;
}

export function outcomeText(event: CommandEvent): string {
  if (event.outcome === 'refused') return `refused by policy${event.policy ? ` (${event.policy})` : ''}`;
  if (event.outcome === 'error') return `error ${event.errorName ?? event.errorCode ?? ''}`.trim();
  return event.outcome;
}

export function eventSummary(event: StoredSessionLogEvent): string {
  if (event.kind === 'command') return event.command;
  return `connection ${event.phase}`;
}
