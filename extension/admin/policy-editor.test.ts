/**
 * Edit Account Policy from the Resources view: the four steps start from the current policy, the answers become
 * the PATCH body, Escape changes nothing, and the confirmation says what the policy now is.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { AccountPolicy } from '../../protocol/policy';
import { mock, resetMock } from '../test/vscode-mock';

type Item = { label: string; picked?: boolean; description?: string };

async function setUp(policy: AccountPolicy) {
  resetMock();
  mock.configuration.set('portcullis.serverUrl', 'http://127.0.0.1:1');
  const { PortcullisController } = await import('../portcullis-controller');
  const { FakeApi, fakeStartAccess, accountDto, resourceDto, makeContext } = await loadFixtures();
  const api = new FakeApi('http://127.0.0.1:1');
  const context = makeContext();
  context.storedSecrets.set('portcullis.token:http://127.0.0.1:1', 'tok_secret');
  const controller = new PortcullisController(context as never, {
    startAccess: fakeStartAccess({}).start,
    createClient: () => api as never,
  });
  await controller.activate();
  const { AccountTreeItem } = await import('../explorer/account-tree-item');
  const item = new AccountTreeItem(accountDto({ policy }), resourceDto(), undefined, true);
  return { api, item, run: () => mock.commands.get('portcullis.editAccountPolicy')?.(item) };
}

async function loadFixtures() {
  const fixtures = await import('../test/fixtures');
  const { makeExtensionContext } = await import('../test/vscode-mock');
  return { ...fixtures, makeContext: makeExtensionContext };
}

const base: AccountPolicy = { mode: 'read-write', databases: [], denied: ['$where'], reasonRequired: true, approvalRequired: false };
const pick = (label: RegExp) => (items: Item[]) => items.find((i) => label.test(i.label));

describe('Edit Account Policy', () => {
  beforeEach(() => resetMock());

  it('starts from the current policy and sends what was chosen', async () => {
    const { api, run } = await setUp(base);
    let shownModes: Item[] = [];
    let shownConditions: Item[] = [];
    mock.quickPickAnswers.push((items) => {
      shownModes = items as Item[];
      return pick(/^Read-only/)(items as Item[]);
    });
    mock.inputAnswers.push((options) => {
      assert.equal(options.value, '', 'no databases today: any');
      return 'shop, logs_*';
    });
    mock.quickPickAnswers.push(pick(/safe defaults/));
    mock.quickPickAnswers.push((items) => {
      shownConditions = items as Item[];
      // Keep "reason", add "approval".
      return items;
    });
    await run();
    assert.equal(shownModes.find((i) => i.label === 'Read-write')?.description, 'current');
    assert.deepEqual(
      shownConditions.map((i) => i.picked),
      [true, false],
      'the current conditions are pre-selected',
    );
    const call = api.calls.find((c) => c.method === 'updateAccount');
    assert.ok(call, 'the account was updated');
    const { policy } = call.args[1] as { policy: AccountPolicy };
    assert.equal(policy.mode, 'read-only');
    assert.deepEqual(policy.databases, ['shop', 'logs_*']);
    assert.ok(policy.denied.includes('$where') && policy.denied.includes('dropDatabase') && policy.denied.includes('mapReduce'));
    assert.equal(policy.reasonRequired, true);
    assert.equal(policy.approvalRequired, true);
    const info = mock.messages.find((m) => m.severity === 'information');
    assert.match(info?.text ?? '', /read-only; databases shop, logs_\*; \d+ refused; reason required; approval required/);
  });

  it('Escape at any step changes nothing', async () => {
    const { api, run } = await setUp(base);
    mock.quickPickAnswers.push(pick(/^Read-write/));
    mock.inputAnswers.push(undefined);
    await run();
    assert.equal(
      api.calls.some((c) => c.method === 'updateAccount'),
      false,
    );
  });

  it('edits the refused list by hand, and can clear the conditions', async () => {
    const { api, run } = await setUp({ ...base, approvalRequired: true });
    mock.quickPickAnswers.push(pick(/^Read-write/));
    mock.inputAnswers.push('app');
    mock.quickPickAnswers.push(pick(/^Edit the list/));
    mock.inputAnswers.push((options) => {
      assert.equal(options.value, '$where');
      return 'dropDatabase, $function';
    });
    mock.quickPickAnswers.push(() => []);
    await run();
    const { policy } = api.calls.find((c) => c.method === 'updateAccount')!.args[1] as { policy: AccountPolicy };
    assert.deepEqual(policy, {
      mode: 'read-write',
      databases: ['app'],
      denied: ['dropDatabase', '$function'],
      reasonRequired: false,
      approvalRequired: false,
    });
  });
});
