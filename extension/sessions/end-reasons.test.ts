import assert from 'node:assert/strict';
import { it } from 'node:test';
import { describeSessionEnd } from './end-reasons';

it('tells why a session ended and what to do now, in one message per reason', () => {
  const told = (reason: Parameters<typeof describeSessionEnd>[1]['reason'], message = '', stoppedHere = false) =>
    describeSessionEnd('orders-db / reader', { reason, message }, stoppedHere);
  assert.deepEqual(told('stopped', '', true), { severity: 'information', text: 'Portcullis session orders-db / reader ended.' });
  const expected: Array<[Parameters<typeof told>[0], RegExp, string?]> = [
    ['expired', /ended: it reached its end time\. Click Access to start a new one\.$/],
    ['terminated', /ended: an administrator terminated it\. Ask a project admin why before you start a new one\.$/],
    ['gateway_offline', /ended: the gateway that reaches this database went offline\. Access works again once the gateway is back online/],
    ['idle', /ended after being idle too long \(no connection and no command\)\. Click Access/],
    [
      'network_lost',
      /ended: the control plane could not be reached for 60 s\. It is stopped at the server as soon as the server is back; then click Access/,
      'the control plane could not be reached for 60 s',
    ],
    ['signed_out', /ended: your sign-in is no longer valid\. Sign in again, then click Access\.$/],
    ['stopped', /ended: it was stopped from another client \(the CLI, another window or the Sessions view\)\. Click Access/],
    ['failed', /ended: the gateway refused \\x1b\[2J\. Click Access/, 'the gateway refused \x1b[2J'],
  ];
  for (const [reason, text, message] of expected) {
    const notice = told(reason, message);
    assert.equal(notice.severity, 'warning', reason);
    assert.match(notice.text, /^Portcullis session orders-db \/ reader ended/, reason);
    assert.match(notice.text, text, reason);
  }
});
