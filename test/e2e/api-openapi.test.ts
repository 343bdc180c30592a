/**
 * The OpenAPI 3.1 document at `GET /api/v1/openapi.json` is complete: every route the server registered (collected
 * by Fastify's onRoute hook as it happens) is in it under its method, with the security the server enforces and
 * every error status it can answer, each in the error shape with the codes that go with that status; and nothing is
 * in it that the server does not serve. (Schemathesis, in api-openapi-fuzz.test.ts, checks answers against it.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { API_ERROR_CODES } from '../../protocol/api';
import { STATUS_OF_CODE } from '../../server/http/error-status';
import { type ApiServer, startApiServer } from './api-harness';

// biome-ignore lint/suspicious/noExplicitAny: the test reads the document as JSON
type Json = any;

/** Fastify's `/sessions/:id` is OpenAPI's `/sessions/{id}`. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('the OpenAPI document', () => {
  let server: ApiServer;
  let doc: Json;

  before(async () => {
    server = await startApiServer('sqlite');
    const answer = await server.call('GET', '/openapi.json');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
    doc = answer.body;
  });

  after(async () => {
    await server?.close();
  });

  it('is OpenAPI 3.1 with the bearer and metrics security schemes, served without sign-in', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(typeof doc.info.version, 'string');
    assert.deepEqual(doc.components.securitySchemes.bearerAuth, {
      type: 'http',
      scheme: 'bearer',
      description: 'A sign-in token from POST /api/v1/auth/login',
    });
    assert.equal(doc.components.securitySchemes.metricsToken.scheme, 'bearer');
  });

  it('has every registered route, with its security and every error status in the error shape', () => {
    const routes = server.cp.fastify.registeredRoutes.filter((r) => r.method !== 'OPTIONS');
    assert.ok(routes.length > 40, `only ${routes.length} routes registered: the hook missed some`);
    const problems: string[] = [];
    for (const route of routes) {
      const name = `${route.method} ${route.url}`;
      const operation = doc.paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
      if (!operation) {
        problems.push(`${name}: missing`);
        continue;
      }
      const scheme = { none: undefined, user: 'bearerAuth', metrics: 'metricsToken' }[route.auth];
      const security = JSON.stringify(operation.security);
      if (security !== JSON.stringify(scheme ? [{ [scheme]: [] }] : [])) problems.push(`${name}: security ${security}`);
      const errorStatuses = [400, 401, 403, 404, 409, 413, 415, 429, 500, 503];
      for (const status of errorStatuses) {
        const schema = operation.responses[String(status)]?.content?.['application/json']?.schema;
        const codes = schema?.properties?.error?.properties?.code?.enum;
        const want =
          status === 413 || status === 415
            ? [API_ERROR_CODES.badRequest]
            : Object.entries(STATUS_OF_CODE)
                .filter(([, s]) => s === status)
                .map(([code]) => code);
        if (JSON.stringify(codes) !== JSON.stringify(want)) problems.push(`${name}: ${status} codes ${JSON.stringify(codes)}`);
        else if (JSON.stringify(schema.required) !== '["error"]' || schema.properties.error.properties.message?.type !== 'string') {
          problems.push(`${name}: ${status} is not the error shape`);
        }
      }
      if (!Object.keys(operation.responses).some((key) => /^2/.test(key))) problems.push(`${name}: no success response`);
    }
    assert.deepEqual(problems, []);
  });

  it('lists nothing the server does not serve', () => {
    const served = new Set(server.cp.fastify.registeredRoutes.map((r) => `${r.method.toLowerCase()} ${openApiPath(r.url)}`));
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((key) => key !== 'parameters')
        .map((method) => `${method} ${path}`),
    );
    assert.deepEqual(
      documented.filter((op) => !served.has(op)),
      [],
    );
  });

  it('answers router errors in the documented error shape (they used to leave as Fastify 414/400 bodies quoting the path)', async () => {
    const token = await server.login(server.bootstrap.email, server.bootstrap.password);
    const long = await server.call('GET', `/resources/res_${'a'.repeat(150)}`, { token });
    assert.equal(long.status, 400);
    assert.deepEqual(Object.keys(long.body), ['error']);
    assert.equal(long.body.error.code, 'bad_request');
    assert.doesNotMatch(long.body.error.message, /aaaa/, 'the path is not quoted back');
    const bad = await server.call('GET', '/resources/%E0%A4%A', { token });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'bad_request');
  });

  it('documents the request schemas the server validates with (a body a route refuses is refused by its schema)', async () => {
    const login = doc.paths['/api/v1/auth/login'].post;
    const body = login.requestBody.content['application/json'].schema;
    assert.deepEqual(body.required, ['email', 'password']);
    assert.equal(body.additionalProperties, false);
    const refused = await server.call('POST', '/auth/login', { body: { email: 'a@b.c', password: 'x', extra: 1 } });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'validation_failed');
    const sessions = doc.paths['/api/v1/sessions'].get.parameters as Array<{ name: string; in: string }>;
    assert.ok(
      sessions.some((p) => p.name === 'state' && p.in === 'query'),
      JSON.stringify(sessions),
    );
  });
});
