/** `portcullis mfa status|enroll totp|remove totp|policy`: the second factor asked before MFA-required accounts. */
import { type Command, Option } from 'commander';
import QRCode from 'qrcode';
import type { MfaMethod, MfaStatusDto } from '../../protocol/api';
import { isApiError } from '../../proxy-core/api-client';
import { displayMessage, displayText } from '../../proxy-core/display-text';
import { resolveProject, signedInClient } from '../context';
import { CliError } from '../errors';
import { EXIT_CODES } from '../exit-codes';
import { askLine } from '../input/prompt';
import { addOutputOption, type OutputFormat, printJson, printStatus, printText } from '../output/output-mode';
import { renderFields, renderTable } from '../output/table';

const POLICY_CHOICES = Object.freeze(['totp', 'email', 'none'] as const);
type PolicyChoice = (typeof POLICY_CHOICES)[number];

export function registerMfaCommands(program: Command): void {
  const mfa = program.command('mfa').description('multi-factor authentication: your authenticator app, and (admins) the project policy');

  addOutputOption(
    mfa
      .command('status')
      .description('show your MFA set-up and which method each of your projects asks for')
      .action(async (flags: { output: OutputFormat }) => {
        const status = await signedInClient().getMfaStatus();
        if (flags.output === 'json') return printJson(status);
        printText(renderStatus(status));
      }),
  );

  const enroll = mfa.command('enroll').description('set up a second factor');
  enroll
    .command('totp')
    .description('set up an authenticator app: shows a QR code to scan, then asks for the first code to confirm')
    .action(async () => {
      const client = signedInClient();
      const { secret, uri } = await client.startTotpEnrollment();
      printText('Scan this QR code with your authenticator app (Google Authenticator, 1Password, Authy, ...):\n');
      printText(await QRCode.toString(uri, { type: 'terminal', small: true }));
      printText(`Or enter this key by hand: ${secret}`);
      printText(`Or open this link on the device that runs the app: ${uri}\n`);
      await askCodeUntilAccepted('Code shown by the app to confirm: ', (code) => client.confirmTotpEnrollment(code));
      printText('Authenticator app confirmed. Access to accounts that require MFA will now ask for its code.');
    });

  const remove = mfa.command('remove').description('remove a second factor');
  remove
    .command('totp')
    .description('remove your authenticator app (asks for a current code from it)')
    .action(async () => {
      const client = signedInClient();
      const status = await askCodeUntilAccepted('Current code from your authenticator app: ', (code) => client.removeTotp(code));
      printText('Authenticator app removed.');
      const methods = new Set(status.projects.map((p) => p.effectiveMethod));
      if (methods.has('email')) printText('Accounts that require MFA will now send a code to your email instead.');
      if (methods.has('totp')) {
        printText('A project you are in enforces authenticator apps: set one up again with portcullis mfa enroll totp before access.');
      }
    });

  mfa
    .command('policy')
    .description('(admin) choose the MFA method a project enforces for accounts that require MFA')
    .addOption(
      new Option('--enforce <method>', 'totp, email, or none (each user’s own method: their authenticator app, else email)')
        .choices(POLICY_CHOICES)
        .makeOptionMandatory(),
    )
    .option('--project <name|id>', 'the project (default: your only one)')
    .action(async (flags: { enforce: PolicyChoice; project?: string }) => {
      const client = signedInClient();
      const project = await resolveProject(client, flags.project);
      const method: MfaMethod | null = flags.enforce === 'none' ? null : flags.enforce;
      await client.setMfaPolicy(project.id, method);
      printText(
        method
          ? `Project ${displayText(project.name)} now enforces ${describeMethod(method)} for accounts that require MFA.`
          : `Project ${displayText(project.name)} no longer enforces an MFA method: each user's authenticator app is used, else email.`,
      );
    });
}

/**
 * Asks for a code and submits it until the server accepts it. A wrong code is explained and asked again;
 * anything else (expired enrollment, too many attempts) ends the command.
 */
async function askCodeUntilAccepted<T>(question: string, submit: (code: string) => Promise<T>): Promise<T> {
  for (;;) {
    const code = await askLine(question);
    if (code === undefined) throw new CliError('no code given; nothing was changed', EXIT_CODES.mfa);
    if (code === '') continue;
    try {
      return await submit(code);
    } catch (error) {
      if (isApiError(error, 'mfa_invalid')) {
        printStatus(`That code was not accepted: ${displayMessage(error.message)}`);
        continue;
      }
      throw error;
    }
  }
}

function describeMethod(method: MfaMethod): string {
  return method === 'totp' ? 'an authenticator app (TOTP)' : 'a code sent by email';
}

export function renderStatus(status: MfaStatusDto): string {
  const totp = status.totp.enrolled
    ? `set up (confirmed ${status.totp.confirmedAt})`
    : status.totp.pending
      ? 'enrollment started but not confirmed: run portcullis mfa enroll totp again'
      : 'not set up (portcullis mfa enroll totp)';
  const email = status.email.available ? `codes go to ${status.email.sentTo}` : 'not available: the server has no SMTP server configured';
  const lines = [
    renderFields([
      ['Authenticator app', totp],
      ['Email', email],
    ]),
  ];
  if (status.projects.length > 0) {
    lines.push(
      '',
      renderTable(status.projects, [
        { header: 'project', value: (p) => p.name },
        { header: 'enforced', value: (p) => p.enforcedMethod ?? '-' },
        { header: 'you will be asked for', value: (p) => describeMethod(p.effectiveMethod) },
      ]),
    );
    const blocked = status.projects.filter((p) => p.effectiveMethod === 'totp' && !status.totp.enrolled);
    for (const p of blocked) {
      lines.push(
        `Project ${displayText(p.name)} enforces an authenticator app: run portcullis mfa enroll totp before accessing its accounts.`,
      );
    }
  }
  return lines.join('\n');
}
