import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../test/bed/ports';
import { ApiClient, ApiError, collectPages, normalizeServerUrl } from './api-client';

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

describe('ApiClient against a real HTTP server', () => {
  let server: Server;
  let base: string;
  const seen: Seen[] = [];
  let handler: Handler = (_req, res) => res.end();

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
        handler(req, res, body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const json = (res: ServerResponse, status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };

  it('sends the bearer token, the JSON body and the query, and returns the parsed answer', async () => {
    handler = (_req, res) => json(res, 200, { items: [{ id: 'res_1' }], nextCursor: 'c2' });
    const client = new ApiClient({ server: `${base}/`, token: 'pcu_secret-token', userAgent: 'test/1' });
    const page = await client.listResources({ projectId: 'prj_1', name: 'main db', limit: 5 });
    assert.deepEqual(page, { items: [{ id: 'res_1' }], nextCursor: 'c2' });
    const last = seen.at(-1)!;
    assert.equal(last.method, 'GET');
    assert.equal(last.url, '/api/v1/resources?projectId=prj_1&name=main+db&limit=5');
    assert.equal(last.authorization, 'Bearer pcu_secret-token');

    handler = (_req, res) => json(res, 200, { id: 'acc_1' });
    await client.createAccount('res_1', { name: 'ro', username: 'u', password: 'pw' });
    assert.equal(seen.at(-1)!.url, '/api/v1/resources/res_1/accounts');
    assert.deepEqual(JSON.parse(seen.at(-1)!.body), { name: 'ro', username: 'u', password: 'pw' });
  });

  it('does not send the token on login, and returns undefined for 204', async () => {
    handler = (_req, res) => json(res, 200, { token: 't', expiresAt: 'x', user: {} });
    const client = new ApiClient({ server: base, token: 'old' });
    await client.login({ email: 'a@b', password: 'p' });
    assert.equal(seen.at(-1)!.authorization, undefined);
    handler = (_req, res) => {
      res.writeHead(204);
      res.end();
    };
    assert.equal(await client.logout(), undefined);
    assert.equal(seen.at(-1)!.authorization, 'Bearer old');
  });

  it("maps the server's {error:{code,message}} to an ApiError with status and code", async () => {
    handler = (_req, res) => json(res, 404, { error: { code: 'not_found', message: 'no resource res_9 in this project' } });
    const client = new ApiClient({ server: base, token: 'pcu_hidden' });
    const error = await client.getResource('res_9').catch((e: unknown) => e);
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 404);
    assert.equal(error.code, 'not_found');
    assert.equal(error.message, 'no resource res_9 in this project');
    assert.doesNotMatch(error.message, /pcu_hidden/);

    handler = (_req, res) =>
      json(res, 409, { error: { code: 'gateway_offline', message: 'gateway gw-1 is offline', details: { gatewayId: 'gw_1' } } });
    const offline = await client.requestAccess('acc_1', {}).catch((e: unknown) => e);
    assert.ok(offline instanceof ApiError);
    assert.equal(offline.code, 'gateway_offline');
    assert.deepEqual(offline.details, { gatewayId: 'gw_1' });
  });

  it('maps an answer that is not our error format by its HTTP status, with a readable message', async () => {
    handler = (_req, res) => {
      res.writeHead(502, 'Bad Gateway', { 'content-type': 'text/html' });
      res.end('<html>bad gateway</html>');
    };
    const client = new ApiClient({ server: base });
    const error = await client.me().catch((e: unknown) => e);
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 502);
    assert.equal(error.code, 'internal_error');
    assert.match(error.message, /HTTP 502/);
    assert.match(error.message, new RegExp(base.replace(/[.]/g, '\\.')));

    handler = (_req, res) => {
      res.writeHead(401);
      res.end('nope');
    };
    const unauth = await client.me().catch((e: unknown) => e);
    assert.ok(unauth instanceof ApiError);
    assert.equal(unauth.code, 'unauthenticated');
  });

  it('reports a successful answer that is not JSON as a wrong address', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>welcome</html>');
    };
    const error = await new ApiClient({ server: base }).health().catch((e: unknown) => e);
    assert.ok(error instanceof ApiError);
    assert.match(error.message, /not JSON/);
  });

  it('turns a server that cannot be reached into network_error naming the URL, without the token', async () => {
    const port = await freePort();
    const client = new ApiClient({ server: `http://127.0.0.1:${port}`, token: 'pcu_do-not-print' });
    const error = await client.me().catch((e: unknown) => e);
    assert.ok(error instanceof ApiError);
    assert.equal(error.code, 'network_error');
    assert.equal(error.status, 0);
    assert.match(error.message, new RegExp(`http://127\\.0\\.0\\.1:${port}`));
    assert.match(error.message, /ECONNREFUSED/);
    assert.match(error.message, /check the address and that the server is running/);
    assert.doesNotMatch(error.message, /pcu_do-not-print/);
  });

  it('turns a server that does not answer in time into network_error', async () => {
    handler = () => {
      /* never answers */
    };
    const client = new ApiClient({ server: base, timeoutMs: 200 });
    const error = await client.health().catch((e: unknown) => e);
    assert.ok(error instanceof ApiError);
    assert.equal(error.code, 'network_error');
    assert.match(error.message, /no answer in time/);
  });

  it('reads every page with collectPages', async () => {
    handler = (req, res) => {
      const cursor = new URL(req.url ?? '', base).searchParams.get('cursor');
      if (!cursor) json(res, 200, { items: [1, 2], nextCursor: 'p2' });
      else json(res, 200, { items: [3] });
    };
    const client = new ApiClient({ server: base, token: 't' });
    const all = await collectPages((cursor) => client.listSessions({ cursor }));
    assert.deepEqual(all, [1, 2, 3]);
  });
});

describe('normalizeServerUrl', () => {
  it('drops a trailing slash, a trailing /api/v1 and any credentials', () => {
    assert.equal(normalizeServerUrl('http://localhost:8080/'), 'http://localhost:8080');
    assert.equal(normalizeServerUrl('https://pc.example.com/api/v1/'), 'https://pc.example.com');
    assert.equal(normalizeServerUrl('https://u:p@pc.example.com/base'), 'https://pc.example.com/base');
  });

  it('refuses an address that is not http(s) with a clear error', () => {
    assert.throws(() => normalizeServerUrl('localhost:8080'), /http:\/\/ or https:\/\//);
    assert.throws(() => normalizeServerUrl('not a url'), /not a valid server address/);
  });
});
