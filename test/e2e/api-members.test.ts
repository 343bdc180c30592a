/**
 * A project always keeps an admin, also when its two admins demote (or remove) each other at the same moment,
 * through two control planes sharing the database: the check "another admin remains" and the change are one locked
 * transaction (server/services/members.ts).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { MemberDto, Page, ProjectDto } from '../../protocol/api';
import { describeApi, MEMBER_PASSWORD, startReplica } from './api-harness';

describeApi('project admins', ['sqlite', 'postgres'], (server) => {
  it('two admins demoting or removing each other at once through two control planes: one wins, an admin remains', async () => {
    const s = server();
    const adminToken = await s.login(s.bootstrap.email, s.bootstrap.password);
    const adminId = (await s.call('GET', '/me', { token: adminToken })).body.user.id as string;
    const replica = await startReplica(s);
    try {
      for (let round = 0; round < 6; round++) {
        const project = await s.call<ProjectDto>('POST', '/projects', { token: adminToken, body: { name: `race-${round}` } });
        assert.equal(project.status, 201);
        const email = `race-${round}@example.com`;
        const added = await s.call<MemberDto>('POST', `/projects/${project.body.id}/members`, {
          token: adminToken,
          body: { email, role: 'admin', name: 'Other admin', password: MEMBER_PASSWORD },
        });
        assert.equal(added.status, 201);
        const otherToken = await s.login(email, MEMBER_PASSWORD);
        const path = (userId: string) => `/projects/${project.body.id}/members/${userId}`;
        // Odd rounds remove instead of demoting: the same rule.
        const [method, body] = round % 2 === 0 ? ['PATCH', { role: 'member' }] : ['DELETE', undefined];
        const answers = await Promise.all([
          s.call(method, path(added.body.userId), { token: adminToken, body }),
          fetch(`${replica.base}${path(adminId)}`, {
            method,
            headers: { authorization: `Bearer ${otherToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
            body: body ? JSON.stringify(body) : undefined,
          }).then(async (r) => ({ status: r.status, body: await r.text() })),
        ]);
        // The loser is refused either as the last admin (409) or, when the winner had committed before its request
        // was authorized, as no longer an admin (403) or, removed, no longer a member (404).
        const won = answers.filter((a) => a.status === 200 || a.status === 204);
        const lost = answers.filter((a) => [403, 404, 409].includes(a.status));
        assert.ok(won.length === 1 && lost.length === 1, `round ${round}: one won, one was refused: ${JSON.stringify(answers)}`);
        const members = await s.call<Page<MemberDto>>('GET', `/projects/${project.body.id}/members`, {
          token: won[0] === answers[0] ? adminToken : otherToken,
        });
        assert.equal(members.body.items.filter((m) => m.role === 'admin').length, 1, `round ${round}: one admin left`);
      }
    } finally {
      await replica.stop();
    }
  });
});
