/**
 * What a mongosh terminal says when its session ends or mongosh fails: why, in plain words, and what to do. The
 * key prompt (R / C) is the wrapper's. `label` is already escaped (sessionLabel); messages from the server are
 * escaped here.
 */
import { displayMessage } from '../../proxy-core/display-text';
import type { AccessEnded } from '../sessions/access-types';

export interface TerminalNotice {
  headline: string;
  lines: string[];
}

/** Why the session ended as this window knows it: `stoppedHere` (Stop, terminal rule) and `signedOut` (Sign Out here). */
export interface EndContext {
  stoppedHere: boolean;
  signedOut?: boolean;
}

export function sessionEndNotice(label: string, ended: AccessEnded, context: EndContext): TerminalNotice {
  const signInAgain = 'Sign in again (Portcullis: Sign In), then press R for a new session.';
  if (context.signedOut) {
    return { headline: `You signed out of Portcullis, which ended the session on ${label}.`, lines: [signInAgain] };
  }
  switch (ended.reason) {
    case 'stopped':
      return context.stoppedHere
        ? { headline: `The session on ${label} was stopped.`, lines: ['It was stopped in this window; nothing runs through it any more.'] }
        : {
            headline: `The session on ${label} was stopped from another client.`,
            lines: ['It was stopped with your sign-in from the CLI, another window or the Sessions view.'],
          };
    case 'expired':
      return {
        headline: `The session on ${label} reached its end time.`,
        lines: ["Sessions last as long as was asked for, at most the account's maximum duration. Press R for a new one."],
      };
    case 'terminated':
      return {
        headline: `An administrator terminated the session on ${label}.`,
        lines: ['Ask a project admin why before you reconnect; the session log keeps what ran.'],
      };
    case 'idle':
      return {
        headline: `The session on ${label} ended after being idle too long.`,
        lines: ['No client used it for the idle timeout. Press R for a new session.'],
      };
    case 'gateway_offline':
      return {
        headline: `The gateway that reaches ${label} went offline, so the session ended.`,
        lines: [
          'Reconnect once the gateway is back (the Resources view shows it online again).',
          'If it stays offline, tell your Portcullis admin.',
        ],
      };
    case 'network_lost':
      return {
        headline: `The Portcullis server could not be reached, so the session on ${label} ended.`,
        lines: ['Check your network or VPN, then press R to reconnect.'],
      };
    case 'signed_out':
      return { headline: `Your Portcullis sign-in is no longer valid, so the session on ${label} ended.`, lines: [signInAgain] };
    default:
      return {
        headline: `The session on ${label} ended: ${displayMessage(ended.message || ended.reason)}.`,
        lines: ['Press R to try a new session; the session log says what happened.'],
      };
  }
}

/**
 * mongosh exited with an error while its session still runs. `reason` is the gateway's, from the session log
 * (the last connection that failed), when there is one.
 */
export function earlyExitNotice(
  label: string,
  exit: { code: number | null; signal: string | null },
  reason: string | undefined,
): TerminalNotice {
  if (reason) {
    return {
      headline: `mongosh could not connect to ${label}.`,
      lines: [
        displayMessage(reason),
        'The session is still open. Once the account is fixed (Edit Account, for admins), press R to start mongosh again.',
      ],
    };
  }
  const how = exit.signal ? `was stopped (${exit.signal})` : `exited with code ${exit.code ?? 'unknown'}`;
  return {
    headline: `mongosh ${how}.`,
    lines: ['Its output is above. The session on ' + label + ' is still open: press R to start mongosh again.'],
  };
}

/** The first line of each mongosh run: which session, and that closing the terminal is how to leave. */
export function startBanner(label: string, sessionId: string, reconnected: boolean): string {
  return `Portcullis: ${reconnected ? 'new session' : 'session'} ${sessionId} on ${label}. Type exit to leave mongosh.`;
}
