/**
 * Schema-driven fuzzing of the JSON API: Schemathesis (PyPI, installed by the test setup into a cached virtual
 * environment) reads `GET /api/v1/openapi.json` from a live control plane (SQLite) and sends what it generates from
 * the document, valid and invalid, first with a member's token and then with an admin's (the admin's run deletes
 * and changes things, so it goes last). Its checks: no 5xx, every status documented, every content type and body as
 * documented. The run must find nothing. Bounded: about 2 minutes for both runs (PORTCULLIS_FUZZ_SECONDS each).
 *
 * The token reaches Schemathesis through the environment, never its command line: the config file names the
 * variable (Schemathesis substitutes ${…}), and the seeded ids let it past the 404s to the routes' real work.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { schemathesisPath } from '../bed/schemathesis-install';
import { type ApiServer, seedWorld, startApiServer, type World } from './api-harness';

const SECONDS_PER_RUN = Number(process.env.PORTCULLIS_FUZZ_SECONDS ?? 50);
const CHECKS = ['not_a_server_error', 'status_code_conformance', 'content_type_conformance', 'response_schema_conformance'];
const TOKEN_VARIABLE = 'PORTCULLIS_FUZZ_TOKEN';

/** The seeded world's ids for each path parameter, by the operations' paths. */
function configFor(world: World): string {
  const ids: Array<[string, Record<string, string>]> = [
    ['^/api/v1/resources/\\{id\\}', { id: world.resource.id }],
    ['^/api/v1/accounts/\\{id\\}', { id: world.account.id }],
    ['^/api/v1/gateways/\\{id\\}', { id: world.gateway.gatewayId }],
    ['^/api/v1/projects/\\{projectId\\}', { projectId: world.projectId, userId: world.member.userId }],
  ];
  const lines = [
    `headers = { Authorization = "Bearer \${${TOKEN_VARIABLE}}" }`,
    // A query's projectId: the seeded project, so that listings answer with data rather than 404.
    `parameters = { "query.projectId" = "${world.projectId}" }`,
    '',
  ];
  for (const [regex, params] of ids) {
    const values = Object.entries(params)
      .map(([name, value]) => `"path.${name}" = "${value}"`)
      .join(', ');
    lines.push('[[operations]]', `include-path-regex = '${regex}'`, `parameters = { ${values} }`, '');
  }
  // These ask the resource's gateway to act, and the world's gateway has no channel to this control plane: their
  // designed answer is 503 gateway_offline (documented; the body is still checked against the document). No other
  // operation may answer any 5xx.
  lines.push(
    '[[operations]]',
    `include-path-regex = '/(access|test-connection)$'`,
    'checks.not_a_server_error.expected-statuses = ["1XX", "2XX", "3XX", "4XX", "503"]',
    '',
  );
  return lines.join('\n');
}

interface FuzzRun {
  exitCode: number | null;
  output: string;
  failures: string[];
}

async function fuzz(server: ApiServer, dir: string, token: string, who: string): Promise<FuzzRun> {
  const junit = join(dir, `${who}.junit.xml`);
  const child = spawn(
    schemathesisPath(),
    [
      '--config-file',
      join(dir, 'schemathesis.toml'),
      'run',
      `${server.base}/openapi.json`,
      '--checks',
      CHECKS.join(','),
      '--max-time',
      String(SECONDS_PER_RUN),
      '--workers',
      '1',
      '--seed',
      process.env.PORTCULLIS_FUZZ_SEED ?? '19',
      '--generation-database',
      'none',
      '--phases',
      'examples,coverage,fuzzing',
      // Signing out would revoke the token the run uses: every later request would test only the 401.
      '--exclude-path',
      '/api/v1/auth/logout',
      // The console's sign-out revokes it the same way (the bearer token wins over the cookie).
      '--exclude-path',
      '/api/v1/console/sign-out',
      '--report',
      'junit',
      '--report-junit-path',
      junit,
      '--no-color',
    ],
    { cwd: dir, env: { ...process.env, [TOKEN_VARIABLE]: token }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  let failures: string[] = [];
  try {
    const xml = readFileSync(junit, 'utf8');
    failures = [...xml.matchAll(/<testcase[^>]*name="([^"]+)"[^>]*>\s*<(failure|error)/g)].map((m) => m[1]);
  } catch {
    failures = ['(no JUnit report: Schemathesis did not finish)'];
  }
  return { exitCode, output, failures };
}

describe('Schemathesis against a live control plane', () => {
  let server: ApiServer;
  let world: World;
  let dir: string;

  before(async () => {
    server = await startApiServer('sqlite', { metricsToken: 'fuzz-metrics-token-0123456789' });
    world = await seedWorld(server);
    dir = mkdtempSync(join(tmpdir(), 'portcullis-fuzz-'));
    writeFileSync(join(dir, 'schemathesis.toml'), configFor(world), { mode: 0o600 });
  });

  after(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const who of ['member', 'admin'] as const) {
    it(`finds no 5xx and no answer that breaks the document, with the ${who}'s token`, async () => {
      const token = who === 'admin' ? world.adminToken : world.memberToken;
      const run = await fuzz(server, dir, token, who);
      const tail = run.output.slice(-6000);
      assert.deepEqual(run.failures, [], `Schemathesis failures:\n${tail}`);
      assert.equal(run.exitCode, 0, `Schemathesis exited with ${run.exitCode}:\n${tail}`);
      // It really ran: every operation but sign-out was tested, and requests reached the server.
      assert.match(run.output, /Tested: 4\d/, tail);
      assert.doesNotMatch(run.output, new RegExp(token), 'the token never appears in its output');
    });
  }

  it('never logged a server error while being fuzzed', () => {
    const errors = server.logs.filter((line) => /"level":(50|"error")/.test(line));
    assert.deepEqual(errors, []);
  });
});
