import { displayMessage } from '../../proxy-core/display-text';
import type { AccessEnded } from './access-types';

export interface EndNotice {
  severity: 'information' | 'warning';
  text: string;
}

/**
 * Tells the user why a session of theirs ended and what to do now, in one message. `label` is already escaped
 * (sessionLabel).
 */
export function describeSessionEnd(label: string, ended: AccessEnded, stoppedHere: boolean): EndNotice {
  const session = `Portcullis session ${label}`;
  const again = 'Click Access to start a new one.';
  switch (ended.reason) {
    case 'stopped':
      return stoppedHere
        ? { severity: 'information', text: `${session} ended.` }
        : {
            severity: 'warning',
            text: `${session} ended: it was stopped from another client (the CLI, another window or the Sessions view). ${again}`,
          };
    case 'expired':
      return { severity: 'warning', text: `${session} ended: it reached its end time. ${again}` };
    case 'terminated':
      return {
        severity: 'warning',
        text: `${session} ended: an administrator terminated it. Ask a project admin why before you start a new one.`,
      };
    case 'idle':
      return { severity: 'warning', text: `${session} ended after being idle too long (no connection and no command). ${again}` };
    case 'gateway_offline':
      return {
        severity: 'warning',
        text: `${session} ended: the gateway that reaches this database went offline. Access works again once the gateway is back online (the Resources view marks it offline until then).`,
      };
    case 'network_lost':
      return {
        severity: 'warning',
        text: `${session} ended: ${displayMessage(ended.message || 'the Portcullis server could not be reached')}. It is stopped at the server as soon as the server is back; then click Access to start a new one.`,
      };
    case 'signed_out':
      return { severity: 'warning', text: `${session} ended: your sign-in is no longer valid. Sign in again, then click Access.` };
    default:
      // failed: proxy-core's message says what happened.
      return { severity: 'warning', text: `${session} ended: ${displayMessage(ended.message || ended.reason)}. ${again}` };
  }
}
