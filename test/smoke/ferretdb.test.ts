import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FerretDBServer, startFerretDB } from '../bed/ferretdb';
import { runMongosh } from '../bed/mongosh';

describe('the test bed is real: FerretDB with SCRAM authentication, driven by mongosh', () => {
  let server: FerretDBServer;
  before(async () => {
    server = await startFerretDB();
  });
  after(() => server?.stop());

  it('authenticates the setup user with SCRAM-SHA-256, inserts a document and reads it back', async () => {
    const result = await runMongosh(
      server.adminUri,
      `const c = db.getSiblingDB('smoke').items;
       c.insertOne({ _id: 'probe', value: 42 });
       const auth = db.getSiblingDB('admin').runCommand({ connectionStatus: 1 }).authInfo.authenticatedUsers;
       print(JSON.stringify({ doc: c.findOne({ _id: 'probe' }), auth }));`,
    );
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const printed = JSON.parse(result.stdout.trim().split('\n').pop() ?? '');
    assert.deepEqual(printed.doc, { _id: 'probe', value: 42 });
    assert.deepEqual(printed.auth, [{ user: server.username, db: 'admin' }]);
  });

  it('refuses the same command without credentials', async () => {
    const result = await runMongosh(server.uri, `print(JSON.stringify(db.getSiblingDB('smoke').items.findOne({ _id: 'probe' })));`);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr + result.stdout, /requires authentication/);
    assert.doesNotMatch(result.stdout, /"value":42/);
  });

  it('rejects a wrong password', async () => {
    const wrong = server.adminUri.replace(encodeURIComponent(server.password), 'not-the-password');
    const result = await runMongosh(wrong, 'db.runCommand({ ping: 1 })');
    assert.notEqual(result.code, 0);
    assert.match(result.stderr + result.stdout, /Authentication failed|auth/i);
  });
});

describe('test bed variants', () => {
  it('reports a replica set when started with replSetName', async () => {
    const server = await startFerretDB({ replSetName: 'rs-test' });
    try {
      const result = await runMongosh(`${server.adminUri}&directConnection=true`, `print(JSON.stringify(db.hello().setName))`);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout.trim()), 'rs-test');
    } finally {
      await server.stop();
    }
  });

  it('serves TLS with a CA-verified certificate, and a client that does not trust the CA is refused', async () => {
    const server = await startFerretDB({ tls: 'verified' });
    try {
      assert.ok(server.tlsPort && server.certs);
      const base = `mongodb://${server.username}:${encodeURIComponent(server.password)}@localhost:${server.tlsPort}/?authSource=admin&tls=true`;
      const ok = await runMongosh(
        `${base}&tlsCAFile=${encodeURIComponent(server.certs.ca.certFile)}`,
        'print(db.runCommand({ ping: 1 }).ok)',
      );
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout.trim(), '1');
      const untrusted = await runMongosh(`${base}&serverSelectionTimeoutMS=3000`, 'print(db.runCommand({ ping: 1 }).ok)');
      assert.match(untrusted.stderr + untrusted.stdout, /certificate/i);
      assert.notEqual(untrusted.code, 0);
    } finally {
      await server.stop();
    }
  });
});
