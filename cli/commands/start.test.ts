import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextSteps } from './start';

describe('portcullis start: the printed next steps', () => {
  const url = 'http://127.0.0.1:8443';

  it('with more than one project, name the project the local gateway is in', () => {
    const steps = nextSteps(url, {
      adminEmail: 'ops@example.com',
      projectNames: ['default', 'payments'],
      projectName: 'default',
      resourceCount: 0,
    });
    assert.equal(steps[0], `portcullis login --server ${url} --email ops@example.com`);
    for (const step of steps.slice(1)) assert.match(step, /^portcullis \w+( create)? --project default /);
  });

  it('quote what a shell would split', () => {
    const steps = nextSteps(url, {
      adminEmail: 'admin@localhost',
      projectNames: ['my team', 'b'],
      projectName: 'my team',
      resourceCount: 2,
    });
    assert.deepEqual(steps, [
      `portcullis login --server ${url} --email admin@localhost`,
      "portcullis resource list --project 'my team'",
      "portcullis access --project 'my team' --resource RESOURCE --account ACCOUNT --exec mongosh",
    ]);
  });
});
