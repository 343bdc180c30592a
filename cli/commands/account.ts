/** `portcullis account create|list|show|update|delete`: database users people can borrow. Passwords never in argv. */

import type { Command } from 'commander';
import type { AccountDto, AccountInput } from '../../protocol/api';
import { collectPages } from '../../proxy-core/api-client';
import { displayText } from '../../proxy-core/display-text';
import { resolveProject, signedInClient } from '../context';
import { CliError } from '../errors';
import { parseDuration } from '../input/duration';
import { addPolicyOptions, describePolicy, type PolicyFlags, policyFromFlags } from '../input/policy-flags';
import { obtainSecret } from '../input/secret';
import { quoteArg, resolveAccount, resolveResource } from '../lookup/resolve';
import { reportConnectionTest } from '../output/connection-test';
import { formatDuration, formatTime } from '../output/format';
import { addOutputOption, type OutputFormat, printJson, printText } from '../output/output-mode';
import { renderFields, renderTable } from '../output/table';

interface AccountFlags extends PolicyFlags {
  project?: string;
  resource: string;
  name?: string;
  description?: string;
  username?: string;
  mfaRequired?: boolean;
  maxDuration?: number;
  passwordStdin?: boolean;
  password?: boolean;
  output: OutputFormat;
}

/** The signed-in client and the resource that --resource (and --project) name: every account command starts here. */
async function resourceOf(flags: Pick<AccountFlags, 'project' | 'resource'>) {
  const client = signedInClient();
  const project = await resolveProject(client, flags.project);
  const resource = await resolveResource(client, project.id, flags.resource);
  return { client, resource };
}

export function registerAccountCommands(program: Command): void {
  const account = program.command('account').description('database accounts on a resource, used on behalf of members');

  addOutputOption(
    addPolicyOptions(
      account
        .command('create')
        .description('add an account (admin); asks for its database password, or reads it with --password-stdin')
        .requiredOption('--resource <name|id>', 'the resource it belongs to')
        .requiredOption('--name <name>', 'a name people will type, unique on the resource (e.g. read-only)')
        .requiredOption('--username <user>', 'the database username')
        .option('--description <text>', 'what it is for')
        .option('--mfa-required', 'ask for a second factor before each session')
        .option('--max-duration <duration>', 'longest session, e.g. 8h or 30m', parseDuration)
        .option('--password-stdin', 'read the database password from standard input')
        .option('--project <name|id>', 'the project (default: your only one)'),
    ).action(async (flags: AccountFlags, command: Command) => {
      const { client, resource } = await resourceOf(flags);
      const password = await obtainSecret({ fromStdin: Boolean(flags.passwordStdin), what: 'database password', confirm: true });
      const input: AccountInput = { name: flags.name!, username: flags.username!, password };
      if (flags.description !== undefined) input.description = flags.description;
      if (flags.mfaRequired) input.mfaRequired = true;
      if (flags.maxDuration !== undefined) input.maxSessionDurationSeconds = flags.maxDuration;
      const policy = policyFromFlags(undefined, flags, command);
      if (policy) input.policy = policy;
      const created = await client.createAccount(resource.id, input);
      if (flags.output === 'json') return printJson(created);
      printText(`Created account "${displayText(created.name)}" (${created.id}) on resource "${displayText(resource.name)}".`);
      printText(`Members get a session with: portcullis access --resource ${quoteArg(resource.name)} --account ${quoteArg(created.name)}`);
    }),
  );

  addOutputOption(
    account
      .command('list')
      .description('list the accounts of a resource')
      .requiredOption('--resource <name|id>', 'the resource')
      .option('--project <name|id>', 'the project (default: your only one)')
      .action(async (flags: AccountFlags) => {
        const { client, resource } = await resourceOf(flags);
        const items = await collectPages((cursor) => client.listAccounts(resource.id, { cursor, limit: 200 }));
        if (flags.output === 'json') return printJson(items);
        if (items.length === 0) return printText(`No accounts on resource "${displayText(resource.name)}" yet.`);
        printText(
          renderTable(items, [
            { header: 'name', value: (a) => a.name },
            { header: 'id', value: (a) => a.id },
            { header: 'username', value: (a) => a.username },
            { header: 'mfa', value: (a) => a.mfaRequired },
            { header: 'max duration', value: (a) => formatDuration(a.maxSessionDurationSeconds) },
            { header: 'policy', value: (a) => describePolicy(a.policy), maxWidth: 70 },
            { header: 'description', value: (a) => a.description, maxWidth: 40 },
          ]),
        );
      }),
  );

  addOutputOption(
    account
      .command('show')
      .description('show one account')
      .argument('<account>', 'name or id')
      .requiredOption('--resource <name|id>', 'the resource')
      .option('--project <name|id>', 'the project (default: your only one)')
      .action(async (ref: string, flags: AccountFlags) => {
        const { client, resource } = await resourceOf(flags);
        const found = await resolveAccount(client, resource, ref);
        if (flags.output === 'json') return printJson(found);
        printText(showAccount(found, resource.name));
      }),
  );

  addOutputOption(
    addPolicyOptions(
      account
        .command('update')
        .description('change an account (admin); only the options given change')
        .argument('<account>', 'name or id')
        .requiredOption('--resource <name|id>', 'the resource')
        .option('--name <name>', 'rename it')
        .option('--description <text>', 'what it is for')
        .option('--username <user>', 'the database username')
        .option('--mfa-required', 'ask for a second factor before each session')
        .option('--no-mfa-required', 'no second factor')
        .option('--max-duration <duration>', 'longest session, e.g. 8h', parseDuration)
        .option('--password', 'change the database password (asked, or read with --password-stdin)')
        .option('--password-stdin', 'change the database password, reading it from standard input')
        .option('--project <name|id>', 'the project (default: your only one)'),
    ).action(async (ref: string, flags: AccountFlags, command: Command) => {
      const { client, resource } = await resourceOf(flags);
      const found = await resolveAccount(client, resource, ref);
      const patch: Partial<AccountInput> = {};
      if (flags.name !== undefined) patch.name = flags.name;
      if (flags.description !== undefined) patch.description = flags.description;
      if (flags.username !== undefined) patch.username = flags.username;
      const mfaSource = command.getOptionValueSource('mfaRequired');
      if (mfaSource === 'cli') patch.mfaRequired = Boolean(flags.mfaRequired);
      if (flags.maxDuration !== undefined) patch.maxSessionDurationSeconds = flags.maxDuration;
      const policy = policyFromFlags(found.policy, flags, command);
      if (policy) patch.policy = policy;
      if (flags.password || flags.passwordStdin) {
        patch.password = await obtainSecret({ fromStdin: Boolean(flags.passwordStdin), what: 'database password', confirm: true });
      }
      if (Object.keys(patch).length === 0)
        throw new CliError('nothing to change: give at least one option (see portcullis account update --help)');
      const updated = await client.updateAccount(found.id, patch);
      if (flags.output === 'json') return printJson(updated);
      printText(`Updated account "${displayText(updated.name)}" (${updated.id})${patch.password ? '; the new password is stored' : ''}.`);
      if (policy) printText(`Policy: ${describePolicy(updated.policy)} (running sessions apply it to their next command).`);
    }),
  );

  addOutputOption(
    account
      .command('test')
      .description(
        'the gateway signs in as the account now, without a session (admin); with --password-stdin, tries a new password before you store it',
      )
      .argument('<account>', 'name or id')
      .requiredOption('--resource <name|id>', 'the resource')
      .option('--password-stdin', 'try this password (from standard input) instead of the stored one')
      .option('--project <name|id>', 'the project (default: your only one)'),
  ).action(async (ref: string, flags: AccountFlags) => {
    const { client, resource } = await resourceOf(flags);
    const found = await resolveAccount(client, resource, ref);
    const password = flags.passwordStdin ? await obtainSecret({ fromStdin: true, what: 'database password' }) : undefined;
    reportConnectionTest(await client.testAccountConnection(found.id, password === undefined ? {} : { password }), flags.output);
  });

  account
    .command('delete')
    .description('delete an account (admin)')
    .argument('<account>', 'name or id')
    .requiredOption('--resource <name|id>', 'the resource')
    .option('--project <name|id>', 'the project (default: your only one)')
    .action(async (ref: string, flags: AccountFlags) => {
      const { client, resource } = await resourceOf(flags);
      const found = await resolveAccount(client, resource, ref);
      await client.deleteAccount(found.id);
      printText(`Deleted account "${displayText(found.name)}" (${found.id}) from resource "${displayText(resource.name)}".`);
    });
}

export function showAccount(a: AccountDto, resourceName: string): string {
  return renderFields([
    ['Name', a.name],
    ['Id', a.id],
    ['Resource', `${resourceName} (${a.resourceId})`],
    ['Username', a.username],
    ['Description', a.description],
    ['MFA required', a.mfaRequired],
    ['Max duration', formatDuration(a.maxSessionDurationSeconds)],
    ['Mode', a.policy.mode],
    ['Databases', a.policy.databases.length > 0 ? a.policy.databases.join(', ') : 'any'],
    ['Denied', a.policy.denied.length > 0 ? a.policy.denied.join(', ') : 'nothing'],
    ['Reason required', a.policy.reasonRequired],
    ['Approval required', a.policy.approvalRequired],
    ['Password', 'stored (never shown)'],
    ['Created', formatTime(a.createdAt)],
    ['Updated', formatTime(a.updatedAt)],
  ]);
}
