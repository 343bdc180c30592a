/**
 * `portcullis access`: a local MongoDB address for one account, with no password, until Ctrl+C.
 */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import type { AccessMfaChallenge, AccessRequestDto, SessionDto } from '../../protocol/api';
import { startAccess } from '../../proxy-core/access';
import { AccessRequestClosed } from '../../proxy-core/access-approval';
import { type ApiClient, ApiError } from '../../proxy-core/api-client';
import { displayMessage, displayText } from '../../proxy-core/display-text';
import { resolveProject, signedIn, USER_AGENT } from '../context';
import { CliError } from '../errors';
import { findProgram } from '../exec/find-program';
import { EXIT_CODES, type ExitCode } from '../exit-codes';
import { parseDuration, parsePort } from '../input/duration';
import { askLine } from '../input/prompt';
import { resolveAccount, resolveResource } from '../lookup/resolve';
import { formatDuration, formatRelative, formatTime } from '../output/format';
import { addOutputOption, type OutputFormat, printJson, printStatus, printText } from '../output/output-mode';
import { exitOnSecondSignal } from '../signals';

interface AccessFlags {
  resource?: string;
  account: string;
  duration?: number;
  port?: number;
  exec?: string;
  project?: string;
  reason?: string;
  /** Commander's negation of --no-wait. */
  wait: boolean;
  output: OutputFormat;
}

type AccessHandle = Awaited<ReturnType<typeof startAccess>>;

/** Why the session ended, from the user's point of view. */
type Ending = { by: 'user'; what: string } | { by: 'exec'; code: number } | { by: 'remote'; reason: string; message?: string };

export function registerAccessCommands(program: Command): void {
  addOutputOption(
    program
      .command('access')
      .description('start a session: prints a local MongoDB address that needs no password; Ctrl+C ends it')
      .requiredOption('--account <name|id>', 'the account to use (see portcullis account list)')
      .option('--resource <name|id>', 'the resource the account belongs to (not needed with an account id)')
      .option('--duration <duration>', 'how long, e.g. 30m or 1h (capped by the account’s maximum)', parseDuration)
      .option('--port <port>', 'local port (default: a free one)', parsePort)
      .option('--exec <program>', 'run this client on the address (e.g. mongosh) and end the session when it exits')
      .option('--reason <text>', 'why you need it (stored with the session; some accounts require it)')
      .option('--no-wait', 'for an account that requires approval: send the request and exit (exit code 10); run again once approved')
      .option('--project <name|id>', 'the project (default: your only one)')
      .argument('[client-args...]', 'arguments for the --exec program, after -- (e.g. -- --quiet)'),
  ).action(async (clientArgs: string[], flags: AccessFlags) => {
    const { client, token } = signedIn();
    const json = flags.output === 'json';
    const { accountId, label } = await pickAccount(client, flags);
    if (clientArgs.length > 0 && !flags.exec) throw new CliError('arguments after -- are for the --exec program; add --exec PROGRAM');
    const execProgram = flags.exec ? resolveExec(flags.exec, clientArgs) : undefined;

    printStatus(`Requesting access to ${label}…`);
    let handle: AccessHandle;
    let reason = flags.reason;
    // Ctrl+C while an access request waits for an admin withdraws it (nobody should approve access no one awaits).
    const waiting = new AbortController();
    const stopWaiting = () => waiting.abort();
    for (;;) {
      try {
        handle = await startAccess({
          server: client.server,
          token,
          accountId,
          durationSeconds: flags.duration,
          port: flags.port,
          clientAgent: USER_AGENT,
          ca: client.ca,
          reason,
          onMfa: askMfaCode,
          signal: waiting.signal,
          onApprovalPending: flags.wait
            ? (request) => {
                // Only while waiting: elsewhere Ctrl+C keeps its usual meaning.
                process.on('SIGINT', stopWaiting);
                announceRequest(request, json);
              }
            : undefined,
        });
        break;
      } catch (error) {
        if (error instanceof AccessRequestClosed) throw requestClosed(error, json);
        // An account that requires a reason: asked once at a terminal; a script gives --reason.
        if (error instanceof ApiError && error.code === 'reason_required' && reason === undefined && process.stdin.isTTY) {
          reason = (await askLine('This account requires a reason for access. Why do you need it? ')) ?? '';
          if (reason.trim()) continue;
        }
        throw accessError(error, flags.port);
      } finally {
        process.off('SIGINT', stopWaiting);
      }
    }

    const session = handle.session;
    if (json) printJson({ uri: handle.uri, sessionId: session.id, expiresAt: handle.expiresAt.toISOString() }, { compact: true });
    else {
      printText(`Connected to ${displayText(session.resourceName)} as ${displayText(session.accountName)}.`);
      printText(`  URI:       ${handle.uri}`);
      printText('  Password:  not required');
      printText(`  Session:   ${session.id}`);
      printText(`  Expires:   ${formatTime(handle.expiresAt.toISOString())} (${formatRelative(handle.expiresAt.toISOString())})`);
      printText(execProgram ? `Starting ${flags.exec}; the session ends when it exits.` : 'Press Ctrl+C to end the session.');
      reportConnections(handle);
    }

    const ending = await waitForEnd(handle, execProgram);
    exitOnSecondSignal();
    if (ending.by !== 'remote') {
      printStatus('Ending the session…');
      await handle.stop();
    } else {
      printStatus(`The session ended: ${displayMessage(ending.message ?? ending.reason)}.`);
      await handle.stop().catch(() => undefined);
    }
    const final = await finalSession(client, session, handle);
    if (json) {
      printJson(
        {
          event: 'ended',
          sessionId: final.id,
          state: final.state,
          endReason: final.endReason,
          durationSeconds: final.durationSeconds,
          connections: final.connections,
          commands: final.commands,
        },
        { compact: true },
      );
    } else {
      printText(
        `Session ${final.id} ${final.state}${final.endReason && final.endReason !== final.state ? ` (${final.endReason})` : ''}: ` +
          `${formatDuration(final.durationSeconds)}, ${plural(final.connections, 'connection')}, ${plural(final.commands, 'command')}.`,
      );
      printText(`See what ran: portcullis session logs ${final.id}`);
    }
    const code: ExitCode | number =
      ending.by === 'exec' ? ending.code : ending.by === 'remote' ? EXIT_CODES.sessionEndedRemotely : EXIT_CODES.ok;
    if (code !== 0) throw new ExitWith(code);
  });
}

/** Ends the command with an exit code but no further message (the summary was printed). */
class ExitWith extends CliError {
  constructor(code: number) {
    super('', code as ExitCode);
  }
}

async function pickAccount(client: ApiClient, flags: AccessFlags): Promise<{ accountId: string; label: string }> {
  if (!flags.resource) {
    if (flags.account.startsWith('acc_')) return { accountId: flags.account, label: `account ${flags.account}` };
    throw new CliError('--resource is required when --account is a name (see portcullis resource list)');
  }
  const project = await resolveProject(client, flags.project);
  const resource = await resolveResource(client, project.id, flags.resource);
  const account = await resolveAccount(client, resource, flags.account);
  return { accountId: account.id, label: `${displayText(resource.name)} as ${displayText(account.name)}` };
}

function resolveExec(command: string, extraArgs: string[]): { path: string; args: string[]; name: string } {
  const [name, ...words] = command.trim().split(/\s+/);
  const args = [...words, ...extraArgs];
  const path = name ? findProgram(name) : undefined;
  if (!path) {
    throw new CliError(`cannot find "${name}" to run; install it, put it on PATH, or give its full path to --exec`);
  }
  return { path, args, name };
}

function waitForEnd(handle: AccessHandle, exec: { path: string; args: string[]; name: string } | undefined): Promise<Ending> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (ending: Ending) => {
      if (settled) return;
      settled = true;
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onTerminate);
      resolve(ending);
    };
    // With --exec the client owns Ctrl+C (mongosh uses it to cancel a running command); we end when it exits.
    const onInterrupt = () => {
      if (!exec) finish({ by: 'user', what: 'Ctrl+C' });
    };
    const onTerminate = () => {
      child?.kill('SIGTERM');
      finish({ by: 'user', what: 'SIGTERM' });
    };
    process.on('SIGINT', onInterrupt);
    process.on('SIGTERM', onTerminate);
    handle.on('ended', (event: { reason: string; message?: string }) => {
      child?.kill('SIGTERM');
      finish({ by: 'remote', reason: event.reason, message: event.message });
    });
    let child: ReturnType<typeof spawn> | undefined;
    if (exec) {
      child = spawn(exec.path, [withPatientSelection(handle.uri), ...exec.args], { stdio: 'inherit' });
      child.once('error', (error) => {
        printStatus(`could not start ${exec.name}: ${error.message}`);
        finish({ by: 'exec', code: EXIT_CODES.failure });
      });
      child.once('exit', (code, signal) => finish({ by: 'exec', code: code ?? (signal ? 128 + 2 : 1) }));
    }
  });
}

/**
 * Connection news on stderr without flooding it: clients such as mongosh open and close several connections
 * (monitoring, retries), so only the first connection and cut connections (each distinct reason once) are shown.
 */
function reportConnections(handle: AccessHandle): void {
  let announced = false;
  const reasons = new Set<string>();
  handle.on('connection-opened', () => {
    if (!announced) printStatus('A client connected.');
    announced = true;
  });
  handle.on('connection-closed', (event: { error?: string }) => {
    if (event.error && !reasons.has(event.error)) printStatus(`A client connection was cut: ${displayMessage(event.error)}`);
    if (event.error) reasons.add(event.error);
  });
}

/** The session as the server recorded it, after the gateway's last log batch had a moment to arrive. */
async function finalSession(client: ApiClient, session: SessionDto, handle: AccessHandle): Promise<SessionDto> {
  let latest: SessionDto = session;
  try {
    latest = await client.getSession(session.id);
    if (handle.stats().connections > 0) {
      await new Promise((r) => setTimeout(r, 700));
      latest = await client.getSession(session.id);
    }
  } catch (error) {
    printStatus(`could not read the session's final numbers: ${displayMessage((error as Error).message)}`);
  }
  return latest;
}

async function askMfaCode(challenge: AccessMfaChallenge, attempt: { error?: string }): Promise<string | undefined> {
  if (attempt.error)
    printStatus(`That code was not accepted: ${displayMessage(attempt.error.replace(/\.$/, ''))}. Try again (empty line to cancel).`);
  else if (challenge.method === 'email')
    printStatus(
      `This account requires a second factor. A code was sent to ${challenge.sentTo ? displayText(challenge.sentTo) : 'your email'}.`,
    );
  else printStatus('This account requires a second factor.');
  const prompt = challenge.method === 'email' ? 'Code from the email: ' : 'Code from your authenticator app: ';
  const code = await askLine(prompt);
  return code ? code.replace(/\s+/g, '') : undefined;
}

function announceRequest(request: AccessRequestDto, json: boolean): void {
  if (json) {
    printJson({ event: 'approval_pending', requestId: request.id, expiresAt: request.expiresAt }, { compact: true });
    return;
  }
  printStatus(
    `This account requires an admin's approval. Request ${request.id} was sent to the project's admins ` +
      `(reason: ${displayText(request.reason)}; ${formatDuration(request.durationSeconds)}).`,
  );
  printStatus(`Waiting until ${formatTime(request.expiresAt)} for a decision; Ctrl+C withdraws the request.`);
}

/** The request did not become a grant: say why, with the exit code scripts test. */
function requestClosed(error: AccessRequestClosed, json: boolean): CliError {
  if (error.state === 'pending') {
    if (json) printJson({ event: 'approval_pending', requestId: error.requestId }, { compact: true });
    return new CliError(
      `this account requires an admin's approval: request ${error.requestId} is waiting (portcullis request show ${error.requestId}); run this command again once it is approved`,
      EXIT_CODES.approval,
    );
  }
  return new CliError(error.message, error.state === 'withdrawn' ? EXIT_CODES.interrupted : EXIT_CODES.approval);
}

function accessError(error: unknown, port: number | undefined): unknown {
  if (!(error instanceof Error) || error instanceof CliError || error.name === 'ApiError') return error;
  // startAccess's own errors already say what to do; give them the exit codes scripts can test.
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE' || /already in use/i.test(error.message)) {
    return new CliError(error.message || `local port ${port} is in use; pick another with --port`, EXIT_CODES.portInUse);
  }
  if (/MFA|multi-factor/i.test(error.message)) return new CliError(error.message, EXIT_CODES.mfa);
  return error;
}

/**
 * mongosh gives up on its first connection after 2 s; through the relay that connection also carries the gateway's
 * login to the database, which can take longer on a slow link. Only for --exec: the printed URI stays as it is.
 */
export function withPatientSelection(uri: string): string {
  if (/[?&]serverSelectionTimeoutMS=/i.test(uri)) return uri;
  return `${uri}${uri.includes('?') ? '&' : '?'}serverSelectionTimeoutMS=30000`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
