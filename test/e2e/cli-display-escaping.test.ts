/**
 * Names a client chooses reach an admin's terminal through `portcullis session logs`: a collection named with an
 * escape sequence, an app name with control and bidi characters. Real tunnel (FerretDB, control plane, gateway
 * agent, startAccess, the official driver) and the real CLI bundle; the CLI must print visible escapes, never the
 * raw characters.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import type { StoredSessionLogEvent } from '../../protocol/session-log';
import { startAccess } from '../../proxy-core/access';
import { buildCli, CliRunner, type CliUser, newCliUser, removeBuild } from './cli-harness';
import { startTunnelBed, type TunnelBed, waitFor } from './tunnel-harness';

/** What a terminal acts on (C0 but LF, DEL, C1) or what reorders text (bidi, separators, BOM). */
const RAW_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;

const COLLECTION = '\x1b[2J\x1b[31mpwned\u009b0m\u202etxt';
const COLLECTION_SHOWN = '\\x1b[2J\\x1b[31mpwned\\u009b0m\\u202etxt';
const APP_NAME = 'report\x1b]0;owned\x07\u2066app\r\nforged';
/** As `--output json` writes it: JSON's own escapes, the bidi isolate included. */
const APP_IN_JSON = 'report\\u001b]0;owned\\u0007\\u2066app\\r\\nforged';
const CLIENT_AGENT = 'agent\x1b[8m\u202e';
const CLIENT_AGENT_SHOWN = 'agent\\x1b[8m\\u202e';

describe('portcullis session logs escapes what clients chose (collection names, client metadata)', () => {
  let bed: TunnelBed;
  let bundle: string;
  let cli: CliRunner;
  let admin: CliUser;
  let sessionId: string;

  before(async () => {
    [bed, bundle] = await Promise.all([startTunnelBed(), buildCli()]);
    cli = new CliRunner(bundle);
    admin = newCliUser('escaping');
    const sign = bed.cp.bootstrapResult;
    assert.ok(sign, 'the control plane bootstrapped an admin');
    const login = await cli.run(admin, ['login', '--server', bed.server, '--email', sign.email, '--password-stdin'], {
      input: `${sign.password}\n`,
    });
    assert.equal(login.code, 0, login.stderr);

    const handle = await startAccess({
      server: bed.server,
      token: bed.token,
      accountId: bed.account.id,
      clientAgent: CLIENT_AGENT,
      pollIntervalMs: 500,
    });
    sessionId = handle.session.id;
    try {
      const client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 10_000, appName: APP_NAME });
      try {
        // Whether FerretDB accepts the name does not matter: the gateway records the command either way.
        await client
          .db('shop')
          .collection(COLLECTION)
          .find({ note: 'x\u009by' })
          .toArray()
          .catch(() => undefined);
      } finally {
        await client.close();
      }
      await waitFor(async () => {
        const events = await bed.logs(sessionId);
        return events.some((e) => e.kind === 'command' && e.collection === COLLECTION) && events.some((e) => e.kind === 'connection');
      }, 'the find on the hostile collection in the session log');
    } finally {
      await handle.stop();
    }
    // The log is complete once every opened connection has its closed event: later counts must not change.
    await waitFor(async () => {
      const events = await bed.logs(sessionId);
      const phases = events.flatMap((e) => (e.kind === 'connection' ? [e.phase] : []));
      return phases.filter((p) => p === 'closed').length === phases.filter((p) => p === 'opened').length;
    }, 'every connection of the session closed in the log');
  });

  after(async () => {
    await bed?.stop();
    if (bundle) removeBuild(bundle);
  });

  it('session logs: the table shows the collection and the input as escapes, with no raw control character', async () => {
    const events = await bed.logs(sessionId);
    const logs = await cli.run(admin, ['session', 'logs', sessionId, '--connections', '--input']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.doesNotMatch(logs.stdout, RAW_UNSAFE, JSON.stringify(logs.stdout));
    assert.match(logs.stdout, new RegExp(`\\sfind\\s+${escapeRegExp(COLLECTION_SHOWN)}\\s`));
    assert.ok(logs.stdout.includes('"find":"\\u001b[2J\\u001b[31mpwned\\u009b0m\\u202etxt"'), logs.stdout);
    // One line per event (connections included): nothing a client chose started a row of its own.
    assert.equal(logs.stdout.trimEnd().split('\n').length, 1 + events.length, logs.stdout);
  });

  it('session show and session list escape the client agent and names', async () => {
    const show = await cli.run(admin, ['session', 'show', sessionId]);
    assert.equal(show.code, 0, show.stderr);
    assert.doesNotMatch(show.stdout, RAW_UNSAFE);
    assert.match(show.stdout, new RegExp(`Client:\\s+${escapeRegExp(CLIENT_AGENT_SHOWN)} from `));
    const list = await cli.run(admin, ['session', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.doesNotMatch(list.stdout, RAW_UNSAFE);
  });

  it('session logs --output json stays JSON with the same values, with C1 and bidi characters written as \\u escapes', async () => {
    const json = await cli.run(admin, ['session', 'logs', sessionId, '--output', 'json']);
    assert.equal(json.code, 0, json.stderr);
    assert.doesNotMatch(json.stdout, RAW_UNSAFE);
    assert.ok(json.stdout.includes('"collection": "\\u001b[2J\\u001b[31mpwned\\u009b0m\\u202etxt"'), json.stdout);
    assert.ok(json.stdout.includes(`app ${APP_IN_JSON}`), json.stdout);
    const events = JSON.parse(json.stdout) as StoredSessionLogEvent[];
    assert.ok(events.some((e) => e.kind === 'command' && e.collection === COLLECTION));
    assert.ok(events.some((e) => e.kind === 'connection' && e.message?.includes(`app ${APP_NAME}`)));
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
