import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ID_PREFIXES, isId, newId } from './ids';

describe('ids', () => {
  it('are the prefix and 20 base32 characters, and differ each time', () => {
    for (const prefix of Object.values(ID_PREFIXES)) {
      const id = newId(prefix);
      assert.match(id, new RegExp(`^${prefix}[a-z2-7]{20}$`));
      assert.ok(isId(prefix, id));
    }
    const many = new Set(Array.from({ length: 1000 }, () => newId('ses_')));
    assert.equal(many.size, 1000);
  });

  it('isId refuses another prefix, another length and other characters', () => {
    const id = newId('usr_');
    assert.equal(isId('prj_', id), false);
    assert.equal(isId('usr_', `${id}a`), false);
    assert.equal(isId('usr_', `usr_${'1'.repeat(20)}`), false);
    assert.equal(isId('usr_', `usr_${'A'.repeat(20)}`), false);
  });
});
