import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { printJson } from './output-mode';

function capture(run: () => void): string {
  const original = process.stdout.write;
  let out = '';
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    run();
  } finally {
    process.stdout.write = original;
  }
  return out;
}

describe('printJson', () => {
  const value = { collection: '\x1b[2J\x7f\u009b31m\u202eevil\u2028', note: 'café \\x1b' };
  const RAW_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;

  it('writes JSON with no raw control or bidi character, which parses back to the same value', () => {
    for (const compact of [false, true]) {
      const out = capture(() => printJson(value, { compact }));
      assert.doesNotMatch(out, RAW_UNSAFE);
      assert.deepEqual(JSON.parse(out), value);
      assert.ok(out.includes('\\u001b[2J\\u007f\\u009b31m\\u202eevil\\u2028'), out);
    }
  });

  it('keeps pretty-printing', () => {
    assert.equal(
      capture(() => printJson({ a: [1] })),
      '{\n  "a": [\n    1\n  ]\n}\n',
    );
  });
});
