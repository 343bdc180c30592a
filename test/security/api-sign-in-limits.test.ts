/**
 * The sign-in limits (server/auth/sign-in-throttle.ts) through the real API, on SQLite and PostgreSQL: concurrent
 * attempts never check more passwords than the limit, also over two control planes sharing the database; an
 * attacker's failures never lock the user out from their own network; the ceilings slow and never block.
 * Gateway enrollment has a limit of its own per network (server/auth/enrollment-throttle.ts), in the database too.
 * Client addresses are real: requests leave from different loopback addresses (127.0.0.0/8 is all loopback on
 * Linux), which is what the server sees as request.ip.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { before, it } from 'node:test';
import type { MemberDto } from '../../protocol/api';
import { GATEWAY_ENROLL_PATH } from '../../protocol/gateway-channel';
import { ENROLLMENT_POLICY } from '../../server/auth/enrollment-throttle';
import { SIGN_IN_POLICY } from '../../server/auth/sign-in-throttle';
import { type ApiServer, describeApi, startReplica } from '../e2e/api-harness';

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: the API's JSON
  body: any;
  retryAfter: number | undefined;
}

/** POST /auth/login on a connection of its own, from `localAddress`. */
function signInFrom(base: string, localAddress: string, email: string, password: string): Promise<Answer> {
  return postFrom(base, '/auth/login', localAddress, { email, password });
}

/** A POST on a connection of its own, from `localAddress`, with extra `headers`. */
function postFrom(base: string, path: string, localAddress: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${base}${path}`,
      {
        method: 'POST',
        localAddress,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => {
          const retryAfter = response.headers['retry-after'];
          resolve({
            status: response.statusCode ?? 0,
            body: text ? JSON.parse(text) : undefined,
            retryAfter: retryAfter === undefined ? undefined : Number(retryAfter),
          });
        });
      },
    );
    request.on('error', reject);
    request.end(data);
  });
}

function tally(answers: Answer[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const a of answers) counts[a.status] = (counts[a.status] ?? 0) + 1;
  return counts;
}

const PAIR = SIGN_IN_POLICY.pair;
const PASSWORD = 'Right-Pa55word-of-the-user';

describeApi('sign-in limits', ['sqlite', 'postgres'], (server) => {
  let adminToken: string;
  let projectId: string;
  let users = 0;

  before(async () => {
    const s = server();
    adminToken = await s.login(s.bootstrap.email, s.bootstrap.password);
    projectId = (await s.call('GET', '/me', { token: adminToken })).body.projects[0].id;
  });

  async function newUser(): Promise<string> {
    const email = `user${++users}@example.com`;
    const added = await server().call<MemberDto>('POST', `/projects/${projectId}/members`, {
      token: adminToken,
      body: { email, role: 'member', password: PASSWORD },
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    return email;
  }

  async function checkedPasswords(email: string): Promise<number> {
    const rows = await server()
      .cp.store.db.selectFrom('audit_events')
      .select('details')
      .where('action', '=', 'auth.sign_in.failed')
      .execute();
    return rows.filter((r) => JSON.parse(r.details).email === email).length;
  }

  /** Moves the server's clock past a Retry-After. */
  function wait(s: ApiServer, seconds: number | undefined): void {
    assert.ok(seconds !== undefined && seconds > 0, `a Retry-After, got ${seconds}`);
    s.clock.offsetMs += seconds * 1000;
  }

  /**
   * Makes every attempt fail with a checked password (401), concurrently, waiting out (on the server's clock) what
   * the limits hold back and trying that again. Returns the first refusal, if any.
   */
  async function failAll(s: ApiServer, attempts: Array<{ from: string; email: string }>): Promise<Answer | undefined> {
    let first: Answer | undefined;
    let pending = attempts;
    while (pending.length > 0) {
      const answers = await Promise.all(pending.map((a, i) => signInFrom(s.base, a.from, a.email, `wrong-${i}`)));
      const held = answers.filter((a) => a.status === 429);
      for (const a of answers) assert.ok(a.status === 401 || a.status === 429, JSON.stringify(a.body));
      first ??= held[0];
      if (held.length > 0) wait(s, Math.max(...held.map((a) => a.retryAfter ?? 0)));
      pending = pending.filter((_, i) => answers[i].status === 429);
    }
    return first;
  }

  it(`40 concurrent wrong passwords for one email: ${PAIR.freeFailures} are checked, 35 get 429 with Retry-After`, async () => {
    const s = server();
    const email = await newUser();
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => signInFrom(s.base, '127.0.1.1', email, `wrong-${i}`)));
    assert.deepEqual(tally(answers), { 401: PAIR.freeFailures, 429: 40 - PAIR.freeFailures });
    assert.equal(await checkedPasswords(email), PAIR.freeFailures, 'the audit trail has one failure per password checked');
    for (const limited of answers.filter((a) => a.status === 429)) {
      assert.equal(limited.body.error.code, 'rate_limited');
      assert.match(limited.body.error.message, /too many failed sign-ins for this email from your network: try again in \d+ seconds?/);
      assert.ok(
        limited.retryAfter !== undefined && limited.retryAfter > 0 && limited.retryAfter <= PAIR.firstDelaySeconds,
        String(limited.retryAfter),
      );
    }
    // Even the right password waits there.
    assert.equal((await signInFrom(s.base, '127.0.1.1', email, PASSWORD)).status, 429);
  });

  it('over two control planes (two processes) sharing the database, 40 concurrent attempts still check only the limit', async () => {
    const s = server();
    const replica = await startReplica(s);
    try {
      const email = await newUser();
      const bases = [s.base, replica.base];
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => signInFrom(bases[i % 2], '127.0.2.1', email, `wrong-${i}`)));
      assert.deepEqual(tally(answers), { 401: PAIR.freeFailures, 429: 40 - PAIR.freeFailures });
      assert.equal(await checkedPasswords(email), PAIR.freeFailures);
    } finally {
      await replica.stop();
    }
  });

  it("an attacker's failures from one network never lock the user out of another; the attacker's waits double", async () => {
    const s = server();
    const email = await newUser();
    const attacker = '127.0.3.1';
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => signInFrom(s.base, attacker, email, `guess-${i}`)));
    assert.equal(tally(answers)[401], PAIR.freeFailures);
    const more = await Promise.all(Array.from({ length: 20 }, (_, i) => signInFrom(s.base, attacker, email, `more-${i}`)));
    assert.deepEqual(tally(more), { 429: 20 });

    const user = await signInFrom(s.base, '127.0.3.2', email, PASSWORD);
    assert.equal(user.status, 200, JSON.stringify(user.body));
    assert.equal(user.body.user.email, email);

    // The attacker: one more guess after each wait, and each wait twice the one before, up to the cap.
    let expected: number = PAIR.firstDelaySeconds;
    let retryAfter = (await signInFrom(s.base, attacker, email, 'again')).retryAfter;
    for (let round = 0; round < 6; round++) {
      wait(s, retryAfter);
      assert.equal((await signInFrom(s.base, attacker, email, `round-${round}`)).status, 401);
      const limited = await signInFrom(s.base, attacker, email, `round-${round}-too-soon`);
      assert.equal(limited.status, 429);
      expected = Math.min(PAIR.maxDelaySeconds, expected * 2);
      assert.ok(
        limited.retryAfter !== undefined && limited.retryAfter <= expected && limited.retryAfter > expected - 5,
        `${limited.retryAfter} vs ${expected}`,
      );
      retryAfter = limited.retryAfter;
    }
    assert.equal(expected, PAIR.maxDelaySeconds);
    // Meanwhile the user still signs in from their network, and a success starts their own count again.
    assert.equal((await signInFrom(s.base, '127.0.3.2', email, PASSWORD)).status, 200);
  });

  it('failures spread over many networks hit the account ceiling: it slows new networks by seconds, never the known one', async () => {
    const s = server();
    const email = await newUser();
    const home = '127.0.4.1';
    assert.equal((await signInFrom(s.base, home, email, PASSWORD)).status, 200);

    // Five networks, each using its free failures: 25 failures for the account, past its ceiling of 20.
    await failAll(
      s,
      Array.from({ length: 25 }, (_, i) => ({ from: `127.0.4.${10 + Math.floor(i / PAIR.freeFailures)}`, email })),
    );
    // A network the user has not signed in from: slowed, with a wait of seconds.
    const fresh = await signInFrom(s.base, '127.0.4.50', email, PASSWORD);
    assert.equal(fresh.status, 429, JSON.stringify(fresh.body));
    assert.match(fresh.body.error.message, /many failed sign-ins for this email from other networks/);
    assert.ok(fresh.retryAfter !== undefined && fresh.retryAfter <= SIGN_IN_POLICY.account.maxDelaySeconds, String(fresh.retryAfter));
    // The user's own network is not slowed at all.
    assert.equal((await signInFrom(s.base, home, email, PASSWORD)).status, 200);
    // And the new network gets in after the wait.
    wait(s, fresh.retryAfter);
    assert.equal((await signInFrom(s.base, '127.0.4.50', email, PASSWORD)).status, 200);
  });

  it('one network failing for many emails hits the network ceiling: users known there go on, others are slowed by seconds', async () => {
    const s = server();
    const known = await newUser();
    const other = await newUser();
    const office = '127.0.5.1';
    assert.equal((await signInFrom(s.base, office, known, PASSWORD)).status, 200);

    const limited = await failAll(
      s,
      Array.from({ length: 25 }, (_, i) => ({ from: office, email: `nobody${i}@example.com` })),
    );
    assert.ok(limited, 'the network was slowed');
    assert.match(limited.body.error.message, /many failed sign-ins from your network/);

    assert.equal((await signInFrom(s.base, office, known, PASSWORD)).status, 200);
    const slowed = await signInFrom(s.base, office, other, PASSWORD);
    assert.equal(slowed.status, 429);
    assert.ok(slowed.retryAfter !== undefined && slowed.retryAfter <= SIGN_IN_POLICY.network.maxDelaySeconds, String(slowed.retryAfter));
    wait(s, slowed.retryAfter);
    assert.equal((await signInFrom(s.base, office, other, PASSWORD)).status, 200);
    // Elsewhere, nothing is slowed.
    assert.equal((await signInFrom(s.base, '127.0.5.2', other, PASSWORD)).status, 200);
  });

  it('counts are forgotten a day after the last failure; the right password starts the count again', async () => {
    const s = server();
    const email = await newUser();
    const address = '127.0.6.1';
    const failures = (n: number) => Array.from({ length: n }, () => ({ from: address, email }));
    assert.equal(await failAll(s, failures(PAIR.freeFailures)), undefined);
    assert.equal((await signInFrom(s.base, address, email, PASSWORD)).status, 429);
    s.clock.offsetMs += SIGN_IN_POLICY.forgetAfterSeconds * 1000;
    assert.equal(await failAll(s, failures(PAIR.freeFailures - 1)), undefined);
    assert.equal((await signInFrom(s.base, address, email, PASSWORD)).status, 200);
    assert.equal(await failAll(s, failures(PAIR.freeFailures)), undefined);
    assert.equal((await signInFrom(s.base, address, email, PASSWORD)).status, 429);
  });
});

describeApi('gateway enrollment limits', ['sqlite', 'postgres'], (server) => {
  it(`over two control planes, 40 concurrent bad enrollment tokens from one network: ${ENROLLMENT_POLICY.freeFailures} are checked, the rest get 429; other networks and good tokens go on`, async () => {
    const s = server();
    const adminToken = await s.login(s.bootstrap.email, s.bootstrap.password);
    const projectId = (await s.call('GET', '/me', { token: adminToken })).body.projects[0].id;
    const newToken = async () =>
      (await s.call<{ token: string }>('POST', '/gateways/enrollment-tokens', { token: adminToken, body: { projectId } })).body.token;
    const replica = await startReplica(s);
    try {
      const bases = [s.base, replica.base];
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) => postFrom(bases[i % 2], GATEWAY_ENROLL_PATH, '127.0.9.1', { token: `pce_wrong${i}` })),
      );
      assert.deepEqual(tally(answers), { 401: ENROLLMENT_POLICY.freeFailures, 429: 40 - ENROLLMENT_POLICY.freeFailures });
      const limited = answers.find((a) => a.status === 429);
      assert.equal(limited?.body.error.code, 'rate_limited');
      assert.match(limited?.body.error.message, /too many failed enrollments: try again in \d+ seconds?/);
      assert.ok(limited?.retryAfter !== undefined && limited.retryAfter > 0);
      // Even a good token waits there; from another network it enrolls, and its success is not a failure.
      assert.equal((await postFrom(replica.base, GATEWAY_ENROLL_PATH, '127.0.9.1', { token: await newToken() })).status, 429);
      for (let i = 0; i < ENROLLMENT_POLICY.freeFailures + 2; i++) {
        const enrolled = await postFrom(bases[i % 2], GATEWAY_ENROLL_PATH, '127.0.10.1', { token: await newToken(), name: `gw-${i}` });
        assert.equal(enrolled.status, 201, JSON.stringify(enrolled.body));
      }
    } finally {
      await replica.stop();
    }
  });
});

describeApi(
  'sign-in limits behind a trusted balancer',
  ['sqlite'],
  (server) => {
    const signInVia = (balancer: string, client: string, email: string) =>
      postFrom(server().base, '/auth/login', balancer, { email, password: 'wrong' }, { 'x-forwarded-for': client });

    it('count the client network named by a trusted balancer, and ignore the header from anyone else', async () => {
      const email = 'victim@example.com';
      const statuses = async (balancer: string, client: string, n: number) => {
        const out: number[] = [];
        for (let i = 0; i < n; i++) out.push((await signInVia(balancer, client, email)).status);
        return out;
      };
      // Through the balancer (127.0.20.1): each client's network has its own count.
      assert.deepEqual(await statuses('127.0.20.1', '10.1.1.1', PAIR.freeFailures + 1), [...Array(PAIR.freeFailures).fill(401), 429]);
      assert.deepEqual(await statuses('127.0.20.1', '10.2.2.2', 1), [401], 'another client network behind the balancer is not held back');
      // From an address that is not the balancer, a forged header changes nothing: counted as that address.
      assert.deepEqual(await statuses('127.0.30.1', '10.3.3.3', PAIR.freeFailures + 1), [...Array(PAIR.freeFailures).fill(401), 429]);
      assert.deepEqual(await statuses('127.0.30.1', '10.4.4.4', 1), [429], 'a new forged address does not reset the count');
    });
  },
  { trustedProxies: ['127.0.20.1'] },
);
