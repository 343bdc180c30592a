import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { quoteArg } from './resolve';

describe('quoteArg', () => {
  it('leaves plain names alone and single-quotes the rest', () => {
    assert.equal(quoteArg('shop-db'), 'shop-db');
    assert.equal(quoteArg('prod orders'), `'prod orders'`);
    assert.equal(quoteArg("ops's"), `'ops'\\''s'`);
  });

  it("writes names with control characters in $'…' quoting: no raw control character, and bash reads the name back", () => {
    const name = "\x1b[2J\x1b[31mpwned\u202e's";
    const quoted = quoteArg(name);
    assert.equal(quoted, "$'\\x1b[2J\\x1b[31mpwned\\u202e\\'s'");
    assert.doesNotMatch(quoted, /[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
    const back = execFileSync('bash', ['-c', `printf '%s' ${quoted}`], { encoding: 'utf8' });
    assert.equal(back, name);
  });
});
