/**
 * better-sqlite3 for the Node.js that runs us.
 *
 * - Node 22.14+, 24, 26 (Node-API 10): better-sqlite3 13, a Node-API addon whose npm package carries prebuilt
 *   binaries, so one binary serves every line and nothing is compiled at install. 12.x is a V8 addon: a build
 *   per Node.js version, from source or from GitHub, and its engines stop at Node 25.
 * - Node 20 (end of life; Node-API 9): 13 crashes the process when loaded, so the 12.x line
 *   (`better-sqlite3-node20`, an optional dependency that npm compiles for the Node running the install) is used.
 *   It goes when Node 20 support does.
 */
import type BetterSqlite3 from 'better-sqlite3';

/** The Node-API version better-sqlite3 13's binaries are built for. */
const NODE_API_OF_13 = 10;

export type SqliteConstructor = typeof BetterSqlite3;

let chosen: SqliteConstructor | undefined;

export function sqliteDriver(): SqliteConstructor {
  chosen ??= load();
  return chosen;
}

function load(): SqliteConstructor {
  if (Number(process.versions.napi) >= NODE_API_OF_13) return require('better-sqlite3');
  try {
    return require('better-sqlite3-node20');
  } catch (error) {
    throw new Error(
      `SQLite on Node.js ${process.versions.node} needs better-sqlite3 12 built by npm install for this Node.js (the optional dependency better-sqlite3-node20), and it could not be loaded: ${(error as Error).message}. Run npm install with this Node.js, or use Node.js 22.14 or newer.`,
      { cause: error },
    );
  }
}
