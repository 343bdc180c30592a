import assert from 'node:assert/strict';
import { it } from 'node:test';
import { makeExtensionContext, mock, resetMock, settle } from '../test/vscode-mock';

it('every copy says it copied: the CLI command, the connection address, and the address offered when mongosh is missing', async () => {
  resetMock();
  mock.configuration.set('portcullis.serverUrl', 'http://127.0.0.1:1');
  mock.configuration.set('portcullis.mongoshPath', '/nonexistent/mongosh');
  const { PortcullisController } = await import('../portcullis-controller');
  const fixtures = await import('../test/fixtures');
  const api = new fixtures.FakeApi('http://127.0.0.1:1');
  const context = makeExtensionContext();
  context.storedSecrets.set('portcullis.token:http://127.0.0.1:1', 'tok_secret');
  const controller = new PortcullisController(context as never, {
    startAccess: fixtures.fakeStartAccess().start,
    createClient: () => api as never,
  });
  await controller.activate();
  const { AccountTreeItem } = await import('../explorer/account-tree-item');
  const item = new AccountTreeItem(fixtures.accountDto(), fixtures.resourceDto(), undefined, false);
  const infos = () => mock.messages.filter((m) => m.severity === 'information').map((m) => m.text);

  await mock.commands.get('portcullis.copyCliCommand')!(item);
  assert.equal(mock.clipboard, 'portcullis access --resource orders-db --account reader');
  assert.deepEqual(infos(), ['CLI command copied to the clipboard.']);

  mock.messageAnswers.push('Copy Connection URI');
  await mock.commands.get('portcullis.access')!(item);
  await settle();
  assert.equal(mock.clipboard, 'mongodb://127.0.0.1:27999/');
  assert.equal(infos()[1], 'Copied mongodb://127.0.0.1:27999/: it needs no password while the session runs.');

  mock.clipboard = '';
  // Copy Connection String asks for the format (extension/browse/copy-connection-string.ts), then confirms.
  mock.quickPickAnswers.push((items) => items.find((i) => i.label === 'Connection string'));
  await mock.commands.get('portcullis.copyConnectionUri')!();
  assert.equal(mock.clipboard, 'mongodb://127.0.0.1:27999/');
  assert.match(
    infos()[2],
    /^Copied mongodb:\/\/127\.0\.0\.1:27999\/ \(Connection string\)\..*it needs no password while the session on .* runs\.$/,
  );
  await controller.deactivate();
});

it('Copy Connection URI from the status bar’s list of sessions says it copied too', async () => {
  resetMock();
  mock.configuration.set('portcullis.serverUrl', 'http://127.0.0.1:1');
  mock.configuration.set('portcullis.mongoshPath', process.execPath);
  const { PortcullisController } = await import('../portcullis-controller');
  const fixtures = await import('../test/fixtures');
  const api = new fixtures.FakeApi('http://127.0.0.1:1');
  const context = makeExtensionContext();
  context.storedSecrets.set('portcullis.token:http://127.0.0.1:1', 'tok_secret');
  const controller = new PortcullisController(context as never, {
    startAccess: fixtures.fakeStartAccess().start,
    createClient: () => api as never,
  });
  await controller.activate();
  const { AccountTreeItem } = await import('../explorer/account-tree-item');
  await mock.commands.get('portcullis.access')!(new AccountTreeItem(fixtures.accountDto(), fixtures.resourceDto(), undefined, false));
  mock.quickPickAnswers.push((items) => items.find((i) => i.label === 'Copy Connection URI'));
  const shown = mock.commands.get('portcullis.showActiveSessions')!();
  await settle();
  const [picker] = mock.quickPicks;
  assert.match(
    String((picker.items[0] as { description?: string }).description),
    / · (.+ left|expired) · mongodb:\/\/127\.0\.0\.1:27999\/$/,
  );
  picker.accept(0);
  await shown;
  assert.equal(mock.clipboard, 'mongodb://127.0.0.1:27999/');
  assert.equal(mock.messages.at(-1)?.text, 'Copied mongodb://127.0.0.1:27999/: it needs no password while the session runs.');
  await controller.deactivate();
});
