import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closeMatches, editDistance } from './close-matches';

describe('closeMatches', () => {
  it('suggests names differing by case, containing the typed text, or a typo away', () => {
    const names = ['orders-prod', 'orders-staging', 'analytics', 'Billing'];
    assert.deepEqual(closeMatches('billing', names), ['Billing']);
    assert.deepEqual(closeMatches('orders', names), ['orders-prod', 'orders-staging']);
    assert.deepEqual(closeMatches('analitics', names), ['analytics']);
    assert.deepEqual(closeMatches('zzz', names), []);
  });

  it('computes the edit distance', () => {
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('', 'abc'), 3);
  });
});
