/**
 * The members and gateways lists page with the API's cursors like every other list: `limit`, then `cursor` from
 * the answer's `nextCursor` until it is absent; every item once, in order; a cursor from elsewhere is refused.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { GatewayDto, MemberDto, Page, ProjectDto } from '../../protocol/api';
import { type ApiServer, describeApi, enrollGateway, MEMBER_PASSWORD } from './api-harness';

/** Reads a list page by page (`limit` each); the pages, to check their sizes and cursors. */
async function allPages<T>(s: ApiServer, token: string, path: string, limit: number): Promise<Array<Page<T>>> {
  const pages: Array<Page<T>> = [];
  let cursor: string | undefined;
  do {
    const query = new URLSearchParams({ limit: String(limit), ...(cursor ? { cursor } : {}) });
    const answer = await s.call<Page<T>>('GET', `${path}${path.includes('?') ? '&' : '?'}${query}`, { token });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    pages.push(answer.body);
    cursor = answer.body.nextCursor;
  } while (cursor && pages.length < 20);
  return pages;
}

describeApi('members and gateways lists', ['sqlite', 'postgres'], (server) => {
  it('pages the members of a project with cursors, in email order, each once', async () => {
    const s = server();
    const token = await s.login(s.bootstrap.email, s.bootstrap.password);
    const project = await s.call<ProjectDto>('POST', '/projects', { token, body: { name: 'paged-members' } });
    assert.equal(project.status, 201);
    // Added out of order: the list sorts by email.
    for (const name of ['erin', 'carl', 'dana', 'abel']) {
      const added = await s.call('POST', `/projects/${project.body.id}/members`, {
        token,
        body: { email: `${name}@paging.example`, role: 'member', name, password: MEMBER_PASSWORD },
      });
      assert.equal(added.status, 201, JSON.stringify(added.body));
    }
    const path = `/projects/${project.body.id}/members`;
    const pages = await allPages<MemberDto>(s, token, path, 2);
    // Four added plus the admin who created the project: 2 + 2 + 1.
    assert.deepEqual(
      pages.map((p) => p.items.length),
      [2, 2, 1],
    );
    assert.equal(pages[2].nextCursor, undefined, 'the last page has no cursor');
    const emails = pages.flatMap((p) => p.items.map((m) => m.email));
    assert.deepEqual(emails, [...emails].sort());
    const whole = await s.call<Page<MemberDto>>('GET', path, { token });
    assert.deepEqual(
      whole.body.items.map((m) => m.email),
      emails,
    );
    assert.equal(whole.body.nextCursor, undefined);
    const foreign = await s.call('GET', `${path}?cursor=bm90LWEtY3Vyc29y`, { token });
    assert.equal(foreign.status, 400);
    assert.equal(foreign.body.error.code, 'validation_failed');
    assert.match(foreign.body.error.message, /not a cursor this list returned/);
  });

  it("pages a project's gateways with cursors, in name order, each once", async () => {
    const s = server();
    const token = await s.login(s.bootstrap.email, s.bootstrap.password);
    const project = await s.call<ProjectDto>('POST', '/projects', { token, body: { name: 'paged-gateways' } });
    assert.equal(project.status, 201);
    for (const name of ['gw-c', 'gw-a', 'gw-d', 'gw-b', 'gw-e']) await enrollGateway(s, token, project.body.id, name);
    const pages = await allPages<GatewayDto>(s, token, `/gateways?projectId=${project.body.id}`, 2);
    assert.deepEqual(
      pages.map((p) => p.items.map((g) => g.name)),
      [['gw-a', 'gw-b'], ['gw-c', 'gw-d'], ['gw-e']],
    );
    assert.equal(pages[2].nextCursor, undefined);
    const foreign = await s.call('GET', `/gateways?projectId=${project.body.id}&cursor=bm90LWEtY3Vyc29y`, { token });
    assert.equal(foreign.status, 400);
    assert.equal(foreign.body.error.code, 'validation_failed');
  });
});
