/**
 * A PortcullisController on the mocked VS Code (./vscode-mock, which must be imported first), whose API clients are
 * FakeApis: one per client the extension makes, in `apis`, each prepared by `configure`. Not yet activated.
 */
import { makeExtensionContext, resetMock } from './vscode-mock';

export async function newController(
  options: { secrets?: Record<string, string>; configure?: (api: import('./fixtures').FakeApi) => void } = {},
) {
  resetMock();
  const { PortcullisController } = await import('../portcullis-controller');
  const fixtures = await import('./fixtures');
  const apis: InstanceType<typeof fixtures.FakeApi>[] = [];
  const context = makeExtensionContext();
  for (const [k, v] of Object.entries(options.secrets ?? {})) context.storedSecrets.set(k, v);
  const controller = new PortcullisController(context as never, {
    startAccess: fixtures.fakeStartAccess().start,
    createClient: (client) => {
      const api = new fixtures.FakeApi(client.server);
      api.setToken(client.token);
      options.configure?.(api);
      apis.push(api);
      return api as never;
    },
  });
  return { controller, context, apis };
}
