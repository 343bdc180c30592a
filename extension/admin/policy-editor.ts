/**
 * Edit Account Policy: what sessions on an account may do (protocol/policy.ts), as four short steps that start from
 * the current policy. Escape at any step changes nothing; the server validates the result and its error is shown.
 */
import * as vscode from 'vscode';
import type { AccountDto } from '../../protocol/api';
import { type AccountPolicy, DEFAULT_POLICY, POLICY_PRESETS } from '../../protocol/policy';
import { displayText } from '../../proxy-core/display-text';

const SAFE_DEFAULTS = POLICY_PRESETS['safe-defaults'];

const list = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** One line, as the account's tooltip and the CLI's table say it. */
export function describePolicy(policy: AccountPolicy): string {
  const parts: string[] = [policy.mode];
  parts.push(policy.databases.length > 0 ? `databases ${policy.databases.join(', ')}` : 'any database');
  if (policy.denied.length > 0) parts.push(`${policy.denied.length} refused`);
  if (policy.reasonRequired) parts.push('reason required');
  if (policy.approvalRequired) parts.push('approval required');
  return parts.join('; ');
}

/** Asks for the new policy, starting from `account`'s; undefined when the user cancels. */
export async function askPolicy(account: AccountDto): Promise<AccountPolicy | undefined> {
  const current: AccountPolicy = { ...DEFAULT_POLICY, ...account.policy };
  const title = `Policy of ${displayText(account.name)}`;
  const mark = (yes: boolean) => (yes ? 'current' : undefined);

  const mode = await vscode.window.showQuickPick(
    [
      { label: 'Read-write', description: mark(current.mode === 'read-write'), mode: 'read-write' as const },
      {
        label: 'Read-only',
        description: mark(current.mode === 'read-only'),
        detail: 'Reads, cursors, metadata and explain only; anything else is refused at the gateway',
        mode: 'read-only' as const,
      },
    ],
    { title: `${title} (1/4): mode`, ignoreFocusOut: true },
  );
  if (!mode) return undefined;

  const databases = await vscode.window.showInputBox({
    title: `${title} (2/4): databases`,
    prompt: 'The only databases sessions may use, comma-separated (* and ? match, e.g. shop, logs_*); empty: any database',
    value: current.databases.join(', '),
    ignoreFocusOut: true,
  });
  if (databases === undefined) return undefined;

  const presetIncluded = SAFE_DEFAULTS.every((name) => current.denied.some((d) => d.toLowerCase() === name.toLowerCase()));
  const deniedChoice = await vscode.window.showQuickPick(
    [
      { label: `Keep the refused list (${current.denied.length})`, choice: 'keep' as const },
      ...(presetIncluded
        ? []
        : [
            {
              label: 'Add the "safe defaults" preset',
              detail: 'dropDatabase, drop, user and role administration, server-side JavaScript, shutdown, applyOps, …',
              choice: 'preset' as const,
            },
          ]),
      { label: 'Edit the list…', choice: 'edit' as const },
      { label: 'Refuse nothing', choice: 'clear' as const },
    ],
    { title: `${title} (3/4): refused commands and operators`, ignoreFocusOut: true },
  );
  if (!deniedChoice) return undefined;
  let denied = current.denied;
  if (deniedChoice.choice === 'preset') denied = [...new Set([...current.denied, ...SAFE_DEFAULTS])];
  if (deniedChoice.choice === 'clear') denied = [];
  if (deniedChoice.choice === 'edit') {
    const edited = await vscode.window.showInputBox({
      title: `${title} (3/4): refused commands and operators`,
      prompt: 'Command names and operators, comma-separated (e.g. dropDatabase, $where)',
      value: current.denied.join(', '),
      ignoreFocusOut: true,
    });
    if (edited === undefined) return undefined;
    denied = list(edited);
  }

  const conditions = await vscode.window.showQuickPick(
    [
      { label: 'Require a reason at Access', picked: current.reasonRequired, key: 'reason' as const },
      {
        label: "Require an admin's approval at Access",
        detail: 'Access sends a request; another admin approves it for a time',
        picked: current.approvalRequired,
        key: 'approval' as const,
      },
    ],
    { title: `${title} (4/4): conditions of access (pick none, one or both)`, canPickMany: true, ignoreFocusOut: true },
  );
  if (!conditions) return undefined;
  return {
    mode: mode.mode,
    databases: list(databases),
    denied,
    reasonRequired: conditions.some((c) => c.key === 'reason'),
    approvalRequired: conditions.some((c) => c.key === 'approval'),
  };
}
