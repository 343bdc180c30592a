import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { makeExtensionContext, mock, resetMock } from '../test/vscode-mock';

interface Manifest {
  contributes: {
    commands: Array<{ command: string; title: string; category?: string }>;
    menus: Record<string, Array<{ command: string; when?: string }>>;
    views: Record<string, Array<{ id: string }>>;
    viewsWelcome: Array<{ view: string; contents: string }>;
  };
}

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as Manifest;

describe('the command registry matches package.json', () => {
  let registry: typeof import('./index');
  let registered: string[];

  before(async () => {
    resetMock();
    registry = await import('./index');
    const { PortcullisController } = await import('../portcullis-controller');
    const { fakeStartAccess } = await import('../test/fixtures');
    const controller = new PortcullisController(makeExtensionContext() as never, { startAccess: fakeStartAccess().start });
    await controller.activate();
    registered = [...mock.commands.keys()].sort();
  });

  it('declares every command id of the registry in package.json, and nothing else', () => {
    const declared = manifest.contributes.commands.map((c) => c.command).sort();
    assert.deepEqual(declared, Object.values(registry.EXTENSION_COMMANDS).sort());
  });

  it('registers every command of the registry on activation, and nothing else', () => {
    assert.deepEqual(registered, Object.values(registry.EXTENSION_COMMANDS).sort());
  });

  it('puts every command in the Portcullis category', () => {
    for (const c of manifest.contributes.commands) assert.equal(c.category, 'Portcullis', c.command);
  });

  it('menus and welcome views name only declared commands and views', () => {
    const commands = new Set(manifest.contributes.commands.map((c) => c.command));
    for (const [menu, entries] of Object.entries(manifest.contributes.menus)) {
      for (const entry of entries) assert.ok(commands.has(entry.command), `${menu} names unknown ${entry.command}`);
    }
    const views = new Set(Object.values(manifest.contributes.views).flatMap((list) => list.map((v) => v.id)));
    assert.deepEqual(
      [...views].sort(),
      Object.values(registry.VIEW_IDS)
        .filter((id) => id !== 'portcullis')
        .sort(),
    );
    for (const welcome of manifest.contributes.viewsWelcome) {
      assert.ok(views.has(welcome.view), welcome.view);
      for (const [, id] of welcome.contents.matchAll(/\(command:([\w.]+)\)/g)) assert.ok(commands.has(id), id);
    }
  });

  it('gives every command a palette entry, hiding the ones that need a tree item', () => {
    const palette = new Map(manifest.contributes.menus.commandPalette.map((e) => [e.command, e.when]));
    for (const c of manifest.contributes.commands) assert.ok(palette.has(c.command), `${c.command} has no commandPalette when clause`);
    const itemOnlyCommands = [
      'editResource',
      'deleteResource',
      'addAccount',
      'deleteAccount',
      'editAccountPolicy',
      'editAccount',
      'testConnection',
      'copyCliCommand',
      'terminateSession',
      'approveAccessRequest',
      'denyAccessRequest',
      'cancelAccessRequest',
    ];
    for (const itemOnly of itemOnlyCommands) {
      assert.equal(palette.get(`portcullis.${itemOnly}`), 'false', itemOnly);
    }
  });
});

describe('menu when clauses match the tree items’ context values', () => {
  const itemMenus = manifest.contributes.menus['view/item/context'];
  /** The menu entries (command ids) VS Code would show for a context value in a view. */
  function menuFor(view: string, contextValue: string): string[] {
    return itemMenus
      .filter((entry) => {
        const when = entry.when ?? '';
        if (!when.includes(`view == ${view}`) && when.includes('view ==')) return false;
        const exact = when.match(/viewItem == ([\w.]+)/);
        if (exact) return exact[1] === contextValue;
        const regex = when.match(/viewItem =~ \/(.+?)\/(?:\s|$)/);
        return regex ? new RegExp(regex[1]).test(contextValue) : false;
      })
      .map((entry) => entry.command.replace('portcullis.', ''));
  }

  it('shows Access and Copy CLI Command on every account, session actions only while active here, admin actions only to admins', async () => {
    const { accountContextValue, resourceContextValue, sessionContextValue } = await import('../explorer/context-values');
    const R = 'portcullis.resources';
    const S = 'portcullis.sessions';
    const member = new Set(menuFor(R, accountContextValue(false, false)));
    assert.deepEqual([...member].sort(), ['access', 'copyCliCommand']);
    const active = new Set(menuFor(R, accountContextValue(true, false)));
    for (const c of ['access', 'copyConnectionUri', 'openMongosh', 'stopSession']) assert.ok(active.has(c), c);
    for (const adminOnly of ['deleteAccount', 'editAccountPolicy', 'editAccount', 'testConnection'])
      assert.ok(!active.has(adminOnly), adminOnly);
    assert.ok(new Set(menuFor(R, accountContextValue(true, true))).has('deleteAccount'));
    const adminAccount = new Set(menuFor(R, accountContextValue(false, true)));
    for (const c of ['editAccountPolicy', 'editAccount', 'testConnection']) assert.ok(adminAccount.has(c), c);
    assert.deepEqual(menuFor(R, resourceContextValue(false)), []);
    // Add Account is an inline button on an admin's resource, and in its context menu.
    assert.deepEqual(menuFor(R, resourceContextValue(true)).sort(), [
      'addAccount',
      'addAccount',
      'deleteResource',
      'editResource',
      'testConnection',
    ]);
    assert.deepEqual(new Set(menuFor(S, sessionContextValue('ended', false))), new Set(['openSessionLog']));
    assert.ok(menuFor(S, sessionContextValue('active', true)).includes('terminateSession'));
    assert.ok(!menuFor(S, sessionContextValue('active', false)).includes('terminateSession'));
    assert.ok(menuFor(S, sessionContextValue('local', false)).includes('stopSession'));
  });

  it('offers Stop on the user’s own active sessions wherever they run, never on other users’ or ended ones', async () => {
    const { sessionContextValue } = await import('../explorer/context-values');
    const S = 'portcullis.sessions';
    assert.equal(sessionContextValue('active', false, true), 'session.active.own');
    assert.equal(sessionContextValue('active', true, true), 'session.active.own.admin');
    assert.equal(sessionContextValue('ended', false, true), 'session.ended', 'an ended session is nobody’s to stop');
    for (const own of [sessionContextValue('active', false, true), sessionContextValue('active', true, true)]) {
      assert.deepEqual(
        menuFor(S, own).filter((c) => c === 'stopSession'),
        ['stopSession', 'stopSession'],
        `inline and in the context menu of ${own}`,
      );
      assert.ok(!menuFor(S, own).includes('openMongosh'), 'no local address to open elsewhere');
    }
    assert.ok(menuFor(S, sessionContextValue('active', true, true)).includes('terminateSession'));
    assert.ok(!menuFor(S, sessionContextValue('active', true)).includes('stopSession'), 'another user’s: Terminate only');
    assert.ok(!menuFor(S, sessionContextValue('active', false)).includes('stopSession'));
  });

  it('offers Approve and Deny on requests the user may decide, Cancel on their own pending ones, and nothing on the rest', async () => {
    const { accessRequestContextValue } = await import('../explorer/context-values');
    const A = 'portcullis.accessRequests';
    assert.deepEqual(menuFor(A, accessRequestContextValue('pending', 'decide')).sort(), [
      'approveAccessRequest',
      'approveAccessRequest',
      'denyAccessRequest',
      'denyAccessRequest',
    ]);
    assert.deepEqual(menuFor(A, accessRequestContextValue('pending', 'own')), ['cancelAccessRequest', 'cancelAccessRequest']);
    for (const state of ['approved', 'denied', 'cancelled', 'expired'] as const) {
      for (const relation of ['decide', 'own', 'other'] as const)
        assert.deepEqual(menuFor(A, accessRequestContextValue(state, relation)), []);
    }
    assert.deepEqual(menuFor(A, accessRequestContextValue('pending', 'other')), []);
    // Not offered in the other views.
    assert.deepEqual(menuFor('portcullis.resources', accessRequestContextValue('pending', 'decide')), []);
  });
});
