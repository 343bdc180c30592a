import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration, parseLimit, parsePort } from './duration';

describe('parseDuration', () => {
  it('accepts 45s, 30m, 8h, 1h30m, 2d and plain seconds', () => {
    assert.equal(parseDuration('45s'), 45);
    assert.equal(parseDuration('30m'), 1800);
    assert.equal(parseDuration('8h'), 28800);
    assert.equal(parseDuration('1h30m'), 5400);
    assert.equal(parseDuration('2d'), 172800);
    assert.equal(parseDuration('600'), 600);
  });

  it('refuses anything else with the accepted forms', () => {
    for (const bad of ['', 'h', '8x', '1h foo', '-5m', '0', '0m']) {
      assert.throws(() => parseDuration(bad), /duration/, bad);
    }
  });
});

describe('parsePort and parseLimit', () => {
  it('accept valid numbers and refuse the rest', () => {
    assert.equal(parsePort('27017'), 27017);
    assert.throws(() => parsePort('70000'), /not a port/);
    assert.throws(() => parsePort('12ab'), /not a port/);
    assert.equal(parseLimit('10'), 10);
    assert.throws(() => parseLimit('0'), /not a limit/);
  });
});
