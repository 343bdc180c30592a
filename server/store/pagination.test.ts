import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCursor, encodeCursor, InvalidCursorError } from './pagination';

describe('cursors', () => {
  it('round-trips a sort key through an opaque URL-safe string', () => {
    const cursor = encodeCursor(['2026-01-02T03:04:05.678Z', 'ses_abc', 42]);
    assert.match(cursor, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeCursor(cursor, 3), ['2026-01-02T03:04:05.678Z', 'ses_abc', 42]);
  });

  it('refuses garbage, the wrong shape and the wrong length with InvalidCursorError', () => {
    for (const bad of ['', '!!!', 'bm90IGpzb24', encodeCursor(['a']), Buffer.from('{"a":1}').toString('base64url'), 'x'.repeat(2000)]) {
      assert.throws(() => decodeCursor(bad, 2), InvalidCursorError, bad);
    }
    assert.throws(() => decodeCursor(Buffer.from('[null,{}]').toString('base64url'), 2), InvalidCursorError);
  });
});
