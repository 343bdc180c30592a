/**
 * The optional email to a project's admins when a session gets its first high-severity risk flag (setting
 * PORTCULLIS_FLAG_EMAILS=on, with SMTP configured). Once per session: a session that drops ten collections sends one
 * email, which links to the whole log; later flags are in the log and in `session list --flag`.
 */
import type { LogBatch } from '../../protocol/gateway-channel';
import type { ServiceContext } from '../services/context';
import { adminEmails } from '../services/members';
import type { Notifier } from '../services/notices';

export async function alertFirstHighFlag(ctx: ServiceContext, notify: Notifier, batch: LogBatch): Promise<void> {
  const session = await ctx.store.db.selectFrom('sessions').selectAll().where('id', '=', batch.sessionId).executeTakeFirst();
  if (!session) return;
  const admins = await adminEmails(ctx, session.project_id);
  if (admins.length === 0) return;
  const flagged = batch.events.flatMap((event) =>
    event.kind === 'command'
      ? (event.flags ?? []).filter((f) => f.severity === 'high').map((f) => `${event.time}  ${f.id}: ${f.detail}`)
      : [],
  );
  notify({
    to: admins,
    subject: `Portcullis: high-risk command in ${session.user_email}'s session on ${session.resource_name} / ${session.account_name}`,
    text:
      `A session got its first high-severity risk flag.\n\n` +
      `Session:  ${session.id} (${session.state})\nUser:     ${session.user_email}\n` +
      `Resource: ${session.resource_name} as ${session.account_name}\n` +
      (session.reason ? `Reason:   ${session.reason}\n` : '') +
      `\n${flagged.join('\n')}\n\n` +
      `See every command: portcullis session logs ${session.id}\n` +
      (session.state === 'active' ? `End it now:        portcullis session terminate ${session.id}\n` : '') +
      '\nYou get one email per session; later flags are in its log.\n',
  });
}
