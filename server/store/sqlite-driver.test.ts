import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sqliteDriver } from './sqlite-driver';

// npm test runs this on every Node.js line (scripts/test.mjs): each must get the build that loads there.
describe('sqliteDriver', () => {
  it(`opens a database on Node.js ${process.version} with the better-sqlite3 line made for its Node-API`, () => {
    const Sqlite = sqliteDriver();
    const db = new Sqlite(':memory:');
    try {
      assert.deepEqual(db.prepare('select 1 + 1 as two').get(), { two: 2 });
    } finally {
      db.close();
    }
    const loadedFrom = Object.keys(require.cache).find((path) => require.cache[path]?.exports === Sqlite);
    const expected =
      Number(process.versions.napi) >= 10 ? /node_modules\/better-sqlite3\/lib\// : /node_modules\/better-sqlite3-node20\/lib\//;
    assert.match(loadedFrom ?? '(not found in the module cache)', expected);
  });
});
