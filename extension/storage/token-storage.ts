import type * as vscode from 'vscode';

const KEY_PREFIX = 'portcullis.token:';

/**
 * The sign-in token lives only in VS Code's SecretStorage (the OS keychain where there is one), keyed by
 * server address so that switching servers does not send one server's token to another.
 */
export class TokenStorage {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  async get(server: string): Promise<string | undefined> {
    return (await this.secrets.get(KEY_PREFIX + server)) || undefined;
  }

  async store(server: string, token: string): Promise<void> {
    await this.secrets.store(KEY_PREFIX + server, token);
  }

  async delete(server: string): Promise<void> {
    await this.secrets.delete(KEY_PREFIX + server);
  }
}
