import { displayMessage } from '../../proxy-core/display-text';
import type { AccessEnded } from './access-types';

export interface EndNotice {
  severity: 'information' | 'warning';
  text: string;
}

/** Tells the user why a session of theirs ended, in a sentence. `label` is already escaped (sessionLabel). */
export function describeSessionEnd(label: string, ended: AccessEnded, stoppedHere: boolean): EndNotice {
  const session = `Portcullis session ${label}`;
  switch (ended.reason) {
    case 'stopped':
      return stoppedHere
        ? { severity: 'information', text: `${session} ended.` }
        : { severity: 'warning', text: `${session} ended: it was stopped from another client.` };
    case 'expired':
      return { severity: 'warning', text: `${session} ended: it reached its maximum duration. Click Access to start a new one.` };
    case 'terminated':
      return { severity: 'warning', text: `${session} ended: an administrator terminated it.` };
    case 'idle':
      return { severity: 'warning', text: `${session} ended after being idle too long.` };
    case 'gateway_offline':
      return { severity: 'warning', text: `${session} ended: the gateway that reaches this database went offline.` };
    default:
      // network_lost, signed_out, failed: proxy-core's message says what happened.
      return { severity: 'warning', text: `${session} ended: ${displayMessage(ended.message || ended.reason)}.` };
  }
}
