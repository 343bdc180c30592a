/**
 * `portcullis request list|show|approve|deny|cancel`: access requests for accounts that require approval. Admins
 * decide the requests of their projects' members (never their own); everyone sees and cancels their own.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { AccessRequestDto, AccessRequestState } from '../../protocol/api';
import { resolveProject, signedInClient } from '../context';
import { parseDuration, parseLimit } from '../input/duration';
import { formatDuration, formatRelative, formatTime } from '../output/format';
import { addOutputOption, type OutputFormat, printJson, printText } from '../output/output-mode';
import { renderFields, renderTable } from '../output/table';

const STATES: readonly AccessRequestState[] = ['pending', 'approved', 'denied', 'cancelled', 'expired'];

interface ListFlags {
  project?: string;
  state?: AccessRequestState;
  all?: boolean;
  mine?: boolean;
  limit: number;
  output: OutputFormat;
}

export function registerRequestCommands(program: Command): void {
  const request = program
    .command('request')
    .description('access requests: accounts that require approval wait for an admin (approve, deny, cancel)');

  addOutputOption(
    request
      .command('list')
      .description('requests waiting for a decision (admins: every member’s in your projects; members: your own)')
      .addOption(new Option('--state <state>', 'only requests in this state').choices(STATES))
      .option('--all', 'every state, not only pending')
      .option('--mine', 'only your own requests')
      .option('--limit <n>', 'at most this many', parseLimit, 50)
      .option('--project <name|id>', 'only this project')
      .action(async (flags: ListFlags) => {
        const client = signedInClient();
        const projectId = flags.project ? (await resolveProject(client, flags.project)).id : undefined;
        const state = flags.state ?? (flags.all ? undefined : 'pending');
        const items: AccessRequestDto[] = [];
        let cursor: string | undefined;
        do {
          const page = await client.listAccessRequests({
            projectId,
            state,
            mine: flags.mine,
            cursor,
            limit: Math.min(flags.limit - items.length, 200),
          });
          items.push(...page.items);
          cursor = page.nextCursor;
        } while (cursor && items.length < flags.limit);
        if (flags.output === 'json') return printJson(items);
        if (items.length === 0) return printText(state === 'pending' ? 'No access request is waiting.' : 'No access requests.');
        printText(
          renderTable(items, [
            { header: 'id', value: (r) => r.id },
            { header: 'state', value: (r) => r.state },
            { header: 'requester', value: (r) => r.requesterEmail },
            { header: 'resource / account', value: (r) => `${r.resourceName} / ${r.accountName}` },
            { header: 'for', value: (r) => formatDuration(r.durationSeconds) },
            { header: 'asked', value: (r) => formatRelative(r.createdAt) },
            { header: 'reason', value: (r) => r.reason, maxWidth: 60 },
          ]),
        );
      }),
  );

  addOutputOption(
    request
      .command('show')
      .description('one request, its decision and its grant')
      .argument('<request>', 'request id (req_...)')
      .action(async (id: string, flags: { output: OutputFormat }) => {
        const found = await signedInClient().getAccessRequest(id);
        if (flags.output === 'json') return printJson(found);
        printText(showRequest(found));
      }),
  );

  addOutputOption(
    request
      .command('approve')
      .description('approve a request: the requester may start sessions until the grant ends (admins; not your own)')
      .argument('<request>', 'request id (req_...)')
      .option('--note <text>', 'a note for the requester and the audit log')
      .option('--duration <duration>', 'a shorter grant than asked for, e.g. 30m', parseDuration)
      .action(async (id: string, flags: { note?: string; duration?: number; output: OutputFormat }) => {
        const decided = await signedInClient().approveAccessRequest(id, { note: flags.note, durationSeconds: flags.duration });
        if (flags.output === 'json') return printJson(decided);
        printText(
          `Approved ${decided.id}: ${decided.requesterEmail} may use ${decided.resourceName} as ${decided.accountName} ` +
            `until ${formatTime(decided.grantExpiresAt)} (${formatRelative(decided.grantExpiresAt ?? decided.decidedAt ?? '')}).`,
        );
      }),
  );

  addOutputOption(
    request
      .command('deny')
      .description('deny a request (admins; not your own)')
      .argument('<request>', 'request id (req_...)')
      .option('--note <text>', 'why, for the requester and the audit log')
      .action(async (id: string, flags: { note?: string; output: OutputFormat }) => {
        const decided = await signedInClient().denyAccessRequest(id, { note: flags.note });
        if (flags.output === 'json') return printJson(decided);
        printText(`Denied ${decided.id} of ${decided.requesterEmail} (${decided.resourceName} / ${decided.accountName}).`);
      }),
  );

  addOutputOption(
    request
      .command('cancel')
      .description('withdraw your own pending request')
      .argument('<request>', 'request id (req_...)')
      .action(async (id: string, flags: { output: OutputFormat }) => {
        const cancelled = await signedInClient().cancelAccessRequest(id);
        if (flags.output === 'json') return printJson(cancelled);
        printText(`Cancelled ${cancelled.id}.`);
      }),
  );
}

function showRequest(r: AccessRequestDto): string {
  return renderFields([
    ['Id', r.id],
    ['State', r.state],
    ['Requester', r.requesterEmail],
    ['Resource', `${r.resourceName} (${r.resourceId})`],
    ['Account', `${r.accountName} (${r.accountId})`],
    ['Reason', r.reason],
    ['Duration', formatDuration(r.durationSeconds)],
    ['Asked', formatTime(r.createdAt)],
    ['Answer by', r.state === 'pending' ? formatTime(r.expiresAt) : null],
    ['Decided', r.decidedAt ? `${formatTime(r.decidedAt)} by ${r.decidedByEmail}` : null],
    ['Note', r.note],
    ['Grant until', r.grantExpiresAt ? formatTime(r.grantExpiresAt) : null],
    ['Sessions', r.sessions],
  ]);
}
