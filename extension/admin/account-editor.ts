/**
 * Edit Account: one field at a time (description, password, MFA required, maximum duration, or the policy), starting
 * from the current value. Escape changes nothing. The password is only ever typed into a masked input box.
 */
import * as vscode from 'vscode';
import type { AccountDto, AccountInput } from '../../protocol/api';
import { displayText } from '../../proxy-core/display-text';
import { validateRequiredMinutes } from './input-validation';
import { describePolicy } from './policy-editor';

export type AccountField = 'description' | 'password' | 'mfa' | 'duration' | 'policy';

/** Which field to change; undefined when the user cancels. */
export async function pickAccountField(account: AccountDto, label: string): Promise<AccountField | undefined> {
  const minutes = Math.round(account.maxSessionDurationSeconds / 60);
  const picked = await vscode.window.showQuickPick(
    [
      { label: 'Password', description: 'stored encrypted; type a new one', field: 'password' as const },
      { label: 'Description', description: account.description ? displayText(account.description) : 'none', field: 'description' as const },
      { label: 'MFA required', description: account.mfaRequired ? 'yes' : 'no', field: 'mfa' as const },
      { label: 'Maximum duration', description: `${minutes} min`, field: 'duration' as const },
      { label: 'Policy…', description: describePolicy(account.policy), field: 'policy' as const },
    ],
    { title: `Edit Account ${label}`, placeHolder: 'What to change', ignoreFocusOut: true },
  );
  return picked?.field;
}

/** A new password, masked; undefined when the user cancels. */
export function askPassword(account: AccountDto, label: string, problem?: string): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: `Edit Account ${label}: password`,
    prompt: `${problem ? `${problem} ` : ''}New password of database user ${displayText(account.username)}; stored encrypted and never shown again`,
    password: true,
    ignoreFocusOut: true,
    validateInput: (v) => (v.length > 0 ? undefined : 'enter the password'),
  });
}

/** The change to description, MFA or duration; undefined when the user cancels or changes nothing. */
export async function askSimpleChange(
  field: Exclude<AccountField, 'password' | 'policy'>,
  account: AccountDto,
  label: string,
): Promise<Partial<AccountInput> | undefined> {
  if (field === 'description') {
    const value = await vscode.window.showInputBox({
      title: `Edit Account ${label}: description`,
      prompt: 'What the account is for, shown to users beside its name (empty for none)',
      // The value to edit stays raw: escaping it would change it when saved.
      value: account.description,
      ignoreFocusOut: true,
      validateInput: (v) => (v.length <= 1000 ? undefined : 'use at most 1000 characters'),
    });
    if (value === undefined || value.trim() === account.description) return undefined;
    return { description: value.trim() };
  }
  if (field === 'mfa') {
    const picked = await vscode.window.showQuickPick(
      [
        { label: 'No verification code', description: account.mfaRequired ? undefined : 'current', mfaRequired: false },
        {
          label: 'Require a verification code (MFA) at Access',
          description: account.mfaRequired ? 'current' : undefined,
          mfaRequired: true,
        },
      ],
      { title: `Edit Account ${label}: MFA`, ignoreFocusOut: true },
    );
    if (!picked || picked.mfaRequired === account.mfaRequired) return undefined;
    return { mfaRequired: picked.mfaRequired };
  }
  const minutes = await vscode.window.showInputBox({
    title: `Edit Account ${label}: maximum duration`,
    prompt: 'Longest session in minutes (sessions already running keep their end time)',
    value: String(Math.round(account.maxSessionDurationSeconds / 60)),
    ignoreFocusOut: true,
    validateInput: validateRequiredMinutes,
  });
  if (minutes === undefined) return undefined;
  const seconds = Math.round(Number(minutes) * 60);
  return seconds === account.maxSessionDurationSeconds ? undefined : { maxSessionDurationSeconds: seconds };
}

/** A few words for the confirmation (a notification without buttons shows one line). */
export function describeChange(patch: Partial<AccountInput>): string {
  if (patch.description !== undefined) return patch.description ? 'description saved' : 'description removed';
  if (patch.mfaRequired !== undefined) return patch.mfaRequired ? 'MFA now required' : 'MFA no longer required';
  if (patch.maxSessionDurationSeconds !== undefined)
    return `sessions now last at most ${Math.round(patch.maxSessionDurationSeconds / 60)} min`;
  return 'saved';
}
