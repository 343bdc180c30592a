import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { fieldAad, newWrappedDataKey, unwrapDataKey } from './envelope';
import { ProjectKeys } from './project-keys';

describe('ProjectKeys', () => {
  it('unwraps each project key once, keeps projects apart, and does not cache a failure', async () => {
    const root = randomBytes(32);
    const wrapped = new Map([
      ['prj_a', newWrappedDataKey(root)],
      ['prj_b', newWrappedDataKey(root)],
    ]);
    const loads: string[] = [];
    const keys = new ProjectKeys(root, async (id) => {
      loads.push(id);
      return wrapped.get(id);
    });

    const [first, second] = await Promise.all([keys.dataKey('prj_a'), keys.dataKey('prj_a')]);
    assert.ok(first.equals(second));
    assert.ok(first.equals(unwrapDataKey(root, wrapped.get('prj_a')!)));
    await keys.dataKey('prj_a');
    assert.deepEqual(loads, ['prj_a']);

    const aad = fieldAad('acc_x', 'password');
    const sealed = await keys.encrypt('prj_a', 'secret', aad);
    assert.equal(await keys.decrypt('prj_a', sealed, aad), 'secret');
    await assert.rejects(keys.decrypt('prj_b', sealed, aad), /integrity check/);

    await assert.rejects(keys.dataKey('prj_new'), /project prj_new does not exist/);
    wrapped.set('prj_new', newWrappedDataKey(root));
    assert.equal((await keys.dataKey('prj_new')).length, 32);

    keys.forget('prj_a');
    await keys.dataKey('prj_a');
    assert.equal(loads.filter((id) => id === 'prj_a').length, 2);
  });
});
