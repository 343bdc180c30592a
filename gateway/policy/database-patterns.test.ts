import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeRandom } from '../test/seeded-random';
import { compileDatabasePatterns, MAX_MATCHED_NAME_LENGTH } from './database-patterns';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_0d8);
const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 20_000);

describe('compileDatabasePatterns', () => {
  it('matches every name when there are no patterns', () => {
    const matches = compileDatabasePatterns([]);
    assert.ok(matches('anything') && matches('admin') && matches(''));
  });

  it('matches exact names, case-sensitively', () => {
    const matches = compileDatabasePatterns(['app', 'Billing']);
    assert.ok(matches('app') && matches('Billing'));
    assert.ok(!matches('App') && !matches('billing') && !matches('app2') && !matches('ap') && !matches(''));
  });

  it('* is any run of characters, including none; ? is exactly one character', () => {
    const matches = compileDatabasePatterns(['logs_*', '*_archive', 'tenant_??', 'a*b*c']);
    for (const name of ['logs_', 'logs_2024', 'logs_a_b', '_archive', 'x_archive', 'tenant_01', 'abc', 'aXXbYYc', 'abbc']) {
      assert.ok(matches(name), name);
    }
    for (const name of ['logs', 'log_2024', 'x_archive2', 'tenant_1', 'tenant_001', 'ab', 'acb', 'aXbYcZ']) {
      assert.ok(!matches(name), name);
    }
    assert.ok(compileDatabasePatterns(['*'])('anything'));
    assert.ok(compileDatabasePatterns(['**'])(''));
    assert.ok(compileDatabasePatterns(['a**b'])('ab'));
  });

  it('? is one code point, not one UTF-16 unit', () => {
    const matches = compileDatabasePatterns(['x?y']);
    assert.ok(matches('xéy') && matches('x😀y') && matches('x-y'));
    assert.ok(!matches('xy') && !matches('x😀😀y'));
  });

  it('treats every other character literally (RegExp syntax included)', () => {
    const matches = compileDatabasePatterns(['a+b', '(x)|y', '[ab]', '^c$', 'd{2}', 'e\\w', 'f.g']);
    for (const name of ['a+b', '(x)|y', '[ab]', '^c$', 'd{2}', 'e\\w', 'f.g']) assert.ok(matches(name), name);
    for (const name of ['aab', 'x', 'y', 'a', 'c', 'dd', 'ew', 'fxg']) assert.ok(!matches(name), name);
  });

  it('does not match names longer than any database name can be, unless listed exactly', () => {
    const long = 'a'.repeat(MAX_MATCHED_NAME_LENGTH + 1);
    assert.ok(!compileDatabasePatterns(['*'])(long));
    assert.ok(compileDatabasePatterns(['*'])('a'.repeat(MAX_MATCHED_NAME_LENGTH)));
  });

  it('stays fast on patterns that make a backtracking RegExp explode', () => {
    const matches = compileDatabasePatterns([`${'*a'.repeat(40)}*b`]);
    const started = process.hrtime.bigint();
    for (let i = 0; i < 100; i++) assert.ok(!matches('a'.repeat(MAX_MATCHED_NAME_LENGTH)));
    assert.ok(process.hrtime.bigint() - started < 2_000_000_000n);
  });

  it(`agrees with a RegExp reference on generated patterns and names (seed ${SEED})`, () => {
    const random = makeRandom(SEED);
    const patternAlphabet = ['a', 'b', '_', '*', '?', 'é'];
    const nameAlphabet = ['a', 'b', '_', 'é'];
    const text = (alphabet: string[], max: number) => Array.from({ length: random.int(max + 1) }, () => random.pick(alphabet)).join('');
    for (let i = 0; i < ITERATIONS; i++) {
      const patterns = Array.from({ length: 1 + random.int(3) }, () => text(patternAlphabet, 6)).filter((p) => p.length > 0);
      const name = text(nameAlphabet, 8);
      const reference =
        patterns.length === 0 || patterns.some((p) => new RegExp(`^${p.replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'u').test(name));
      assert.equal(
        compileDatabasePatterns(patterns)(name),
        reference,
        `seed ${SEED}, iteration ${i}: ${JSON.stringify({ patterns, name })}`,
      );
    }
  });
});
