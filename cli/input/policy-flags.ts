/**
 * The account policy options of `account create` and `account update`: each given option sets its part of the
 * policy, the others keep theirs (on create, the defaults). Names and patterns are checked by the server.
 */
import type { Command } from 'commander';
import { type AccountPolicy, DEFAULT_POLICY, POLICY_PRESETS, type PolicyMode } from '../../protocol/policy';
import { CliError } from '../errors';

export interface PolicyFlags {
  mode?: string;
  databases?: string;
  anyDatabase?: boolean;
  deny?: string;
  denyPreset?: string;
  reasonRequired?: boolean;
  approvalRequired?: boolean;
}

/** Adds the policy options to an account command. */
export function addPolicyOptions(command: Command): Command {
  return command
    .option('--mode <mode>', 'read-write, or read-only (reads, cursors, metadata and explain only)')
    .option('--databases <list>', 'the only databases the account may use, comma-separated; * and ? match (e.g. app,logs_*)')
    .option('--any-database', 'any database (clears --databases)')
    .option('--deny <list>', 'commands and operators refused, comma-separated (e.g. dropDatabase,$where); "" clears')
    .option('--deny-preset <name>', `add a preset to the refused list: ${Object.keys(POLICY_PRESETS).join(', ')}`)
    .option('--reason-required', 'access must say why (portcullis access --reason)')
    .option('--no-reason-required', 'access needs no reason')
    .option('--approval-required', 'access waits for an admin to approve a request (portcullis request approve)')
    .option('--no-approval-required', 'access needs no approval');
}

const list = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** The policy the options ask for, from `base`; undefined when no policy option was given. */
export function policyFromFlags(base: AccountPolicy | undefined, flags: PolicyFlags, command: Command): AccountPolicy | undefined {
  const policy: AccountPolicy = { ...DEFAULT_POLICY, ...base, databases: [...(base?.databases ?? [])], denied: [...(base?.denied ?? [])] };
  let changed = false;
  if (flags.mode !== undefined) {
    if (flags.mode !== 'read-write' && flags.mode !== 'read-only')
      throw new CliError(`--mode must be read-write or read-only, got "${flags.mode}"`);
    policy.mode = flags.mode as PolicyMode;
    changed = true;
  }
  if (flags.databases !== undefined && flags.anyDatabase) throw new CliError('give --databases or --any-database, not both');
  if (flags.databases !== undefined) {
    policy.databases = list(flags.databases);
    changed = true;
  }
  if (flags.anyDatabase) {
    policy.databases = [];
    changed = true;
  }
  if (flags.deny !== undefined) {
    policy.denied = list(flags.deny);
    changed = true;
  }
  if (flags.denyPreset !== undefined) {
    const preset = POLICY_PRESETS[flags.denyPreset as keyof typeof POLICY_PRESETS];
    if (!preset) throw new CliError(`--deny-preset: no preset "${flags.denyPreset}"; there is ${Object.keys(POLICY_PRESETS).join(', ')}`);
    policy.denied = [...new Set([...policy.denied, ...preset])];
    changed = true;
  }
  if (command.getOptionValueSource('reasonRequired') === 'cli') {
    policy.reasonRequired = Boolean(flags.reasonRequired);
    changed = true;
  }
  if (command.getOptionValueSource('approvalRequired') === 'cli') {
    policy.approvalRequired = Boolean(flags.approvalRequired);
    changed = true;
  }
  return changed ? policy : undefined;
}

/** One line for tables: `read-only; databases app, logs_*; 20 denied; reason`. */
export function describePolicy(policy: AccountPolicy): string {
  const parts: string[] = [policy.mode];
  if (policy.databases.length > 0) parts.push(`databases ${policy.databases.join(', ')}`);
  if (policy.denied.length > 0) parts.push(`${policy.denied.length} denied`);
  if (policy.reasonRequired) parts.push('reason required');
  if (policy.approvalRequired) parts.push('approval required');
  return parts.join('; ');
}
