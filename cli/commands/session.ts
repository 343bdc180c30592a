/** `portcullis session list|show|logs|terminate`: who used what, when, and every command they ran. */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { SessionDto, SessionSearchHit, SessionState } from '../../protocol/api';
import { RISK_FLAG_IDS, type RiskFlag, type RiskFlagId, type StoredSessionLogEvent } from '../../protocol/session-log';
import { type ApiClient, collectPages, type SessionFilters, type SessionSearchFilters } from '../../proxy-core/api-client';
import { displayText } from '../../proxy-core/display-text';
import { resolveProject, signedInClient } from '../context';
import { CliError } from '../errors';
import { EXIT_CODES } from '../exit-codes';
import { parseLimit } from '../input/duration';
import { resolveAccount, resolveResource } from '../lookup/resolve';
import { formatDuration, formatTime } from '../output/format';
import { addOutputOption, type OutputFormat, printJson, printText } from '../output/output-mode';
import { renderFields, renderTable } from '../output/table';

const SESSION_STATES: readonly SessionState[] = ['starting', 'active', 'ended', 'terminated', 'expired', 'failed'];

interface SearchFlags {
  project?: string;
  resource?: string;
  user?: string;
  from?: string;
  to?: string;
  limit: number;
  output: OutputFormat;
}

/** An ISO 8601 date or time, as the API takes it. */
function parseTimeFlag(value: string): string {
  const time = new Date(value);
  if (Number.isNaN(time.getTime()))
    throw new CliError(`not a date or time: "${value}" (use ISO 8601, e.g. 2026-12-01 or 2026-12-01T09:00Z)`);
  return time.toISOString();
}

interface ListFlags {
  project?: string;
  state?: SessionState;
  flag?: RiskFlagId;
  resource?: string;
  account?: string;
  user?: string;
  limit: number;
  output: OutputFormat;
}

export function registerSessionCommands(program: Command): void {
  const session = program.command('session').description('sessions and their command logs');

  addOutputOption(
    session
      .command('list')
      .description('list sessions, newest first (members see their own; admins see everyone’s)')
      .addOption(new Option('--state <state>', 'only sessions in this state').choices(SESSION_STATES))
      .addOption(new Option('--flag <flag>', 'only sessions with a command flagged so').choices([...RISK_FLAG_IDS]))
      .option('--resource <name|id>', 'only sessions on this resource')
      .option('--account <name|id>', 'only sessions with this account (with --resource when given by name)')
      .option('--user <email|id>', 'only sessions of this user (admin)')
      .option('--limit <n>', 'at most this many', parseLimit, 50)
      .option('--project <name|id>', 'the project (default: your only one)')
      .action(async (flags: ListFlags) => {
        const client = signedInClient();
        const project = await resolveProject(client, flags.project);
        const filters: SessionFilters = { projectId: project.id, state: flags.state, flag: flags.flag };
        let resource: Awaited<ReturnType<typeof resolveResource>> | undefined;
        if (flags.resource) {
          resource = await resolveResource(client, project.id, flags.resource);
          filters.resourceId = resource.id;
        }
        if (flags.account) {
          if (flags.account.startsWith('acc_')) filters.accountId = flags.account;
          else if (resource) filters.accountId = (await resolveAccount(client, resource, flags.account)).id;
          else throw new CliError('an account given by name needs --resource too (names are unique per resource)');
        }
        if (flags.user) filters.userId = await resolveUserId(client, project.id, flags.user);
        const items: SessionDto[] = [];
        let cursor: string | undefined;
        do {
          const page = await client.listSessions({ ...filters, cursor, limit: Math.min(flags.limit - items.length, 200) });
          items.push(...page.items);
          cursor = page.nextCursor;
        } while (cursor && items.length < flags.limit);
        if (flags.output === 'json') return printJson(items);
        if (items.length === 0) return printText('No sessions match.');
        printText(
          renderTable(items, [
            { header: 'id', value: (s) => s.id },
            { header: 'state', value: (s) => (s.endReason && s.endReason !== s.state ? `${s.state} (${s.endReason})` : s.state) },
            { header: 'user', value: (s) => s.userEmail },
            { header: 'resource', value: (s) => s.resourceName },
            { header: 'account', value: (s) => s.accountName },
            { header: 'started', value: (s) => formatTime(s.startedAt ?? s.createdAt) },
            { header: 'duration', value: (s) => formatDuration(s.durationSeconds), align: 'right' },
            { header: 'connections', value: (s) => s.connections, align: 'right' },
            { header: 'commands', value: (s) => s.commands, align: 'right' },
            { header: 'flags', value: (s) => describeFlagCount(s), align: 'right' },
          ]),
        );
      }),
  );

  addOutputOption(
    session
      .command('search')
      .description('find recorded commands by their text, across the sessions you may see, newest first')
      .argument('<text...>', 'words to find, all of them; the last may be the start of a word (e.g. orders 4711)')
      .option('--resource <name|id>', 'only sessions on this resource')
      .option('--user <email|id>', 'only sessions of this user (admin)')
      .option('--from <time>', 'only commands at or after this time (ISO 8601, e.g. 2026-12-01 or 2026-12-01T09:00Z)', parseTimeFlag)
      .option('--to <time>', 'only commands before this time', parseTimeFlag)
      .option('--limit <n>', 'at most this many', parseLimit, 50)
      .option('--project <name|id>', 'the project (default: your only one)')
      .action(async (words: string[], flags: SearchFlags) => {
        const client = signedInClient();
        const filters: SessionSearchFilters = { q: words.join(' '), from: flags.from, to: flags.to };
        if (flags.resource || flags.user) {
          const project = await resolveProject(client, flags.project);
          if (flags.resource) filters.resourceId = (await resolveResource(client, project.id, flags.resource)).id;
          if (flags.user) filters.userId = await resolveUserId(client, project.id, flags.user);
        }
        const hits: SessionSearchHit[] = [];
        let cursor: string | undefined;
        do {
          const page = await client.searchSessionLogs({ ...filters, cursor, limit: Math.min(flags.limit - hits.length, 200) });
          hits.push(...page.items);
          cursor = page.nextCursor;
        } while (cursor && hits.length < flags.limit);
        if (flags.output === 'json') return printJson(hits);
        if (hits.length === 0) return printText('No recorded command matches.');
        printText(
          renderTable(hits, [
            { header: 'time', value: (h) => formatTime(h.time) },
            { header: 'session', value: (h) => h.sessionId },
            { header: 'user', value: (h) => h.userEmail },
            { header: 'resource / account', value: (h) => `${h.resourceName} / ${h.accountName}` },
            { header: 'command', value: (h) => (h.kind === 'command' ? h.command : '') },
            { header: 'input', value: (h) => (h.kind === 'command' ? h.input : ''), maxWidth: 80, json: true },
          ]),
        );
      }),
  );

  addOutputOption(
    session
      .command('show')
      .description('show one session')
      .argument('<session>', 'session id (ses_...)')
      .action(async (id: string, flags: { output: OutputFormat }) => {
        const client = signedInClient();
        const found = await client.getSession(id);
        if (flags.output === 'json') return printJson(found);
        printText(showSession(found));
      }),
  );

  addOutputOption(
    session
      .command('logs')
      .description('the commands run in a session, in order')
      .argument('<session>', 'session id (ses_...)')
      .option('--connections', 'also show connections opening and closing')
      .option('--input', 'show each command as it was sent')
      .action(async (id: string, flags: { connections?: boolean; input?: boolean; output: OutputFormat }) => {
        const client = signedInClient();
        const events = await collectPages((cursor) => client.getSessionLogs(id, { cursor, limit: 500 }));
        if (flags.output === 'json') return printJson(events);
        // The reason the user gave goes with what they did.
        const { reason } = await client.getSession(id);
        if (reason) printText(`Reason: ${displayText(reason)}`);
        const shown = flags.connections ? events : events.filter((e) => e.kind === 'command');
        if (shown.length === 0) return printText(`No commands recorded in session ${id} yet.`);
        printText(renderLogTable(shown, Boolean(flags.input)));
      }),
  );

  addOutputOption(
    session
      .command('terminate')
      .description('end someone’s session now; its connections close within a second (admin)')
      .argument('<session>', 'session id (ses_...)')
      .action(async (id: string, flags: { output: OutputFormat }) => {
        const client = signedInClient();
        const ended = await client.terminateSession(id);
        if (flags.output === 'json') return printJson(ended);
        printText(
          `Terminated session ${ended.id} of ${displayText(ended.userEmail)} on ${displayText(ended.resourceName)}/${displayText(ended.accountName)}.`,
        );
      }),
  );
}

export function renderLogTable(events: readonly StoredSessionLogEvent[], withInput: boolean): string {
  return renderTable(events, [
    { header: 'time', value: (e) => formatTime(e.time) },
    { header: 'database', value: (e) => (e.kind === 'command' ? e.database : '') },
    { header: 'command', value: (e) => (e.kind === 'command' ? e.command : `(connection ${e.phase})`) },
    { header: 'collection', value: (e) => (e.kind === 'command' ? e.collection : '') },
    {
      header: 'outcome',
      value: (e) =>
        e.kind === 'command'
          ? e.outcome === 'error'
            ? `error${e.errorName ? ` ${e.errorName}` : e.errorCode !== undefined ? ` ${e.errorCode}` : ''}`
            : e.outcome === 'refused'
              ? `refused by policy${e.policy ? ` (${e.policy})` : ''}`
              : e.outcome
          : e.phase === 'failed'
            ? `failed: ${e.message ?? ''}`
            : '',
      maxWidth: 50,
    },
    { header: 'documents', value: (e) => (e.kind === 'command' ? (e.documents ?? e.affected) : undefined), align: 'right' },
    { header: 'duration ms', value: (e) => (e.kind === 'command' ? e.durationMs : undefined), align: 'right' },
    // Shown when something was flagged: what a reviewer should look at, most severe first.
    ...(events.some((e) => e.kind === 'command' && e.flags?.length)
      ? [{ header: 'flags', value: (e: StoredSessionLogEvent) => (e.kind === 'command' ? describeFlags(e.flags) : ''), maxWidth: 100 }]
      : []),
    // Shown when the log has transactions: which commands a commitTransaction or abortTransaction covered.
    ...(events.some((e) => e.kind === 'command' && e.transaction)
      ? [{ header: 'transaction', value: (e: StoredSessionLogEvent) => (e.kind === 'command' ? e.transaction : '') }]
      : []),
    ...(withInput
      ? [{ header: 'input', value: (e: StoredSessionLogEvent) => (e.kind === 'command' ? e.input : ''), maxWidth: 120, json: true }]
      : []),
  ]);
}

/** `3 (1 high)`, or nothing when there are none. */
export function describeFlagCount(s: Pick<SessionDto, 'flagCount' | 'highFlagCount'>): string {
  if (!s.flagCount) return '';
  return s.highFlagCount ? `${s.flagCount} (${s.highFlagCount} high)` : String(s.flagCount);
}

/** `!! drop: dropDatabase shop` for high severity, `! server-js: …` for the others. */
export function describeFlags(flags: readonly RiskFlag[] | undefined): string {
  if (!flags?.length) return '';
  const rank = { high: 0, medium: 1, low: 2 } as const;
  return [...flags]
    .sort((a, b) => rank[a.severity] - rank[b.severity])
    .map((f) => `${f.severity === 'high' ? '!!' : '!'} ${f.id}: ${f.detail}`)
    .join('; ');
}

export function showSession(s: SessionDto): string {
  return renderFields([
    ['Session', s.id],
    ['State', s.endReason ? `${s.state} (${s.endReason})` : s.state],
    ['User', s.userEmail],
    ['Resource', `${s.resourceName} (${s.resourceId})`],
    ['Account', `${s.accountName} (${s.accountId})`],
    ['Created', formatTime(s.createdAt)],
    ['Started', formatTime(s.startedAt)],
    ['Ended', formatTime(s.endedAt)],
    ['Expires', formatTime(s.expiresAt)],
    ['Duration', formatDuration(s.durationSeconds)],
    ['Ended by', s.endedBy],
    ['Connections', s.connections],
    ['Commands', s.commands],
    ['Client', [s.clientAgent, s.clientAddress].filter(Boolean).join(' from ')],
    ['MFA', s.mfaMethod],
    ['Reason', s.reason],
    ['Flags', describeFlagCount(s) || null],
  ]);
}

async function resolveUserId(client: ApiClient, projectId: string, ref: string): Promise<string> {
  if (ref.startsWith('usr_')) return ref;
  const members = await client.listMembers(projectId);
  const found = members.find((m) => m.email.toLowerCase() === ref.toLowerCase());
  if (!found) throw new CliError(`no member with email ${ref} in this project`, EXIT_CODES.notFound);
  return found.userId;
}
