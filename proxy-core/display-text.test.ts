import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { displayJson, displayMessage, displayText } from './display-text';

/** Every character the helpers must never let through, for the "nothing raw is left" checks. */
const RAW_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;

function allUnsafeCharacters(): string[] {
  const codes: number[] = [];
  for (let c = 0x00; c <= 0x1f; c++) codes.push(c);
  for (let c = 0x7f; c <= 0x9f; c++) codes.push(c);
  codes.push(0x061c, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0xfeff);
  return codes.map((c) => String.fromCharCode(c));
}

describe('displayText', () => {
  it('turns C0 controls into visible escapes: ESC sequences, NUL, BEL, backspace', () => {
    assert.equal(displayText('\x1b[2J\x1b[31mpwned'), '\\x1b[2J\\x1b[31mpwned');
    assert.equal(displayText('a\x00b\x07c\x08d'), 'a\\x00b\\x07c\\x08d');
    assert.equal(displayText('\x1b]0;title\x07'), '\\x1b]0;title\\x07');
  });

  it('escapes CR, LF and TAB so a value stays on one line and cannot forge another', () => {
    assert.equal(displayText('orders\r\n2026-01-01  admin  dropDatabase'), 'orders\\r\\n2026-01-01  admin  dropDatabase');
    assert.equal(displayText('a\tb'), 'a\\tb');
  });

  it('escapes DEL and the C1 controls, e.g. U+009B (CSI on some terminals) and U+0085 (NEL)', () => {
    assert.equal(displayText('x\x7fy'), 'x\\x7fy');
    assert.equal(displayText('\u009b31mred'), '\\u009b31mred');
    assert.equal(displayText('a\u0085b\u0080\u009f'), 'a\\u0085b\\u0080\\u009f');
  });

  it('escapes the bidi and format characters that reorder or hide text', () => {
    assert.equal(displayText('invoice\u202eexe.pdf'), 'invoice\\u202eexe.pdf');
    assert.equal(displayText('\u2066a\u2067b\u2068c\u2069'), '\\u2066a\\u2067b\\u2068c\\u2069');
    assert.equal(displayText('\u200e\u200f\u061c\u202a\u202b\u202c\u202d'), '\\u200e\\u200f\\u061c\\u202a\\u202b\\u202c\\u202d');
    assert.equal(displayText('line\u2028next\u2029para'), 'line\\u2028next\\u2029para');
    assert.equal(displayText('\ufeffbom'), '\\ufeffbom');
  });

  it('leaves every such character escaped, and nothing raw behind', () => {
    for (const char of allUnsafeCharacters()) {
      const shown = displayText(`a${char}b`);
      assert.doesNotMatch(shown, RAW_UNSAFE, `U+${char.charCodeAt(0).toString(16)}`);
      assert.notEqual(shown, `a${char}b`);
    }
  });

  it('escapes the backslash, so typed text cannot pass for an escaped control character', () => {
    assert.equal(displayText('\\x1b[2J'), '\\\\x1b[2J');
    assert.notEqual(displayText('\\x1b'), displayText('\x1b'));
    assert.equal(displayText('C:\\data'), 'C:\\\\data');
  });

  it('leaves printable text as it is, non-ASCII included', () => {
    for (const text of ['orders', 'café', '注文', 'заказы', 'طلبات', 'emoji 🍰', 'a b  c', 'x\u00a0y', '"quoted" \'single\' $dollar']) {
      assert.equal(displayText(text), text);
    }
  });

  it("gives bash the original back through $'…' quoting", { skip: !hasBash() }, () => {
    const original = 'a\x1b[31m\u009b\u202e\\x1b\n\tcafé';
    const quoted = `$'${displayText(original).replace(/'/g, "\\'")}'`;
    const back = execFileSync('bash', ['-c', `printf '%s' ${quoted}`], { encoding: 'utf8' });
    assert.equal(back, original);
  });
});

describe('displayMessage', () => {
  it('escapes the same characters as displayText but keeps backslashes as written', () => {
    assert.equal(
      displayMessage("no resource named \"\x1b[2Jx\"; see portcullis account list --resource 'ops'\\''s'"),
      "no resource named \"\\x1b[2Jx\"; see portcullis account list --resource 'ops'\\''s'",
    );
    assert.equal(displayMessage('cannot read C:\\keys\\ca.pem'), 'cannot read C:\\keys\\ca.pem');
    for (const char of allUnsafeCharacters()) assert.doesNotMatch(displayMessage(`a${char}b`), RAW_UNSAFE);
  });
});

describe('displayJson', () => {
  it('escapes what JSON.stringify leaves raw (DEL, C1, bidi, separators) the JSON way, so it parses to the same value', () => {
    const value = { collection: '\x1b[2J\x7f\u009b\u202e\u2028\ufeff\\x1b café' };
    const json = JSON.stringify(value);
    assert.match(json, RAW_UNSAFE, 'JSON.stringify alone leaves some of them raw');
    const shown = displayJson(json);
    assert.doesNotMatch(shown, RAW_UNSAFE);
    assert.deepEqual(JSON.parse(shown), value);
    assert.equal(shown, '{"collection":"\\u001b[2J\\u007f\\u009b\\u202e\\u2028\\ufeff\\\\x1b café"}');
  });

  it('escapes a stray raw control character too (text that is not what JSON.stringify wrote)', () => {
    assert.equal(displayJson('{"a":"\x1b\n"}'), '{"a":"\\u001b\\u000a"}');
  });
});

function hasBash(): boolean {
  try {
    execFileSync('bash', ['-c', 'true']);
    return true;
  } catch {
    return false;
  }
}
