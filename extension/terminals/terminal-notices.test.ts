import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AccessEndReason } from '../../proxy-core/access';
import { earlyExitNotice, sessionEndNotice } from './terminal-notices';

const REASONS: AccessEndReason[] = ['stopped', 'expired', 'terminated', 'idle', 'gateway_offline', 'failed', 'network_lost', 'signed_out'];

describe('what a terminal says', () => {
  it('names the session and says why it ended, in words, for every reason, with what to do', () => {
    for (const reason of REASONS) {
      const notice = sessionEndNotice('orders / reader', { reason, message: 'the session failed' }, { stoppedHere: false });
      assert.match(notice.headline, /orders \/ reader/, reason);
      assert.doesNotMatch(notice.headline, /_/, `${reason}: no reason codes`);
      assert.ok(notice.lines.length > 0, reason);
    }
    assert.match(sessionEndNotice('x', { reason: 'stopped', message: '' }, { stoppedHere: true }).lines[0], /in this window/);
    assert.match(sessionEndNotice('x', { reason: 'stopped', message: '' }, { stoppedHere: false }).headline, /from another client/);
    assert.match(
      sessionEndNotice('x', { reason: 'stopped', message: '' }, { stoppedHere: true, signedOut: true }).headline,
      /You signed out/,
    );
  });

  it('escapes what the server says, so it cannot drive the terminal', () => {
    const ended = sessionEndNotice('x', { reason: 'failed', message: 'boom\x1b[2J' }, { stoppedHere: false });
    assert.ok(!ended.headline.includes('\x1b'));
    const early = earlyExitNotice('x', { code: 1, signal: null }, 'denied\x1b]0;title\x07');
    assert.ok(!early.lines.join('').includes('\x1b'));
    assert.match(early.headline, /mongosh could not connect to x\./);
    assert.equal(earlyExitNotice('x', { code: null, signal: 'SIGKILL' }, undefined).headline, 'mongosh was stopped (SIGKILL).');
  });
});
