/**
 * Why mongosh could not connect, in the gateway's words: the session log's last connection event with phase
 * `failed` (e.g. "…could not authenticate… Check the account's stored password."). The gateway uploads log events
 * every quarter second, so the event may arrive a moment after mongosh has exited: the log is asked a few times.
 */
import type { Page } from '../../protocol/api';
import type { StoredSessionLogEvent } from '../../protocol/session-log';
import { collectPages, type PageOptions } from '../../proxy-core/api-client';

export interface FailedConnection {
  seq: number;
  message: string;
}

/** The last failed connection after `afterSeq` (events the user was already told about are not told again). */
export function lastFailedConnection(events: readonly StoredSessionLogEvent[], afterSeq: number): FailedConnection | undefined {
  let found: FailedConnection | undefined;
  for (const event of events) {
    if (event.kind !== 'connection' || event.phase !== 'failed' || !event.message || event.seq <= afterSeq) continue;
    if (!found || event.seq > found.seq) found = { seq: event.seq, message: event.message };
  }
  return found;
}

export interface LogReader {
  getSessionLogs(sessionId: string, options?: PageOptions): Promise<Page<StoredSessionLogEvent>>;
}

export async function findFailedConnection(
  client: LogReader,
  sessionId: string,
  afterSeq: number,
  options: { attempts?: number; intervalMs?: number } = {},
): Promise<FailedConnection | undefined> {
  const attempts = options.attempts ?? 20;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
    try {
      const events = await collectPages((cursor) => client.getSessionLogs(sessionId, { cursor }));
      const found = lastFailedConnection(events, afterSeq);
      if (found) return found;
    } catch {
      // Not knowing why is not a second failure to report: the terminal still says mongosh exited.
      return undefined;
    }
  }
  return undefined;
}
