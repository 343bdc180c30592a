/**
 * What every command needs: the config folder, the signed-in API client, and the project it works in.
 */
import type { ProjectDto } from '../protocol/api';
import { ApiClient } from '../proxy-core/api-client';
import { readCaFile } from '../proxy-core/server-trust';
import { configDirFromEnv } from './credentials/config-dir';
import { readConfig } from './credentials/config-file';
import { loadToken } from './credentials/token-store';
import { CliError } from './errors';
import { EXIT_CODES } from './exit-codes';
import { CLI_VERSION } from './version';

export const USER_AGENT = `portcullis-cli/${CLI_VERSION}`;

export function configDir(): string {
  return configDirFromEnv(process.env);
}

/** The server a command talks to: `--server`, else the one from the last login. */
export function serverAddress(explicit?: string): string | undefined {
  return explicit ?? process.env.PORTCULLIS_SERVER ?? readConfig(configDir()).server;
}

/**
 * The PEM of the CA to trust for the server: PORTCULLIS_CA_FILE, else the one given at login (--ca-file). Undefined
 * means the system's roots.
 */
export function serverCa(explicitFile?: string): string | undefined {
  const file = explicitFile ?? (process.env.PORTCULLIS_CA_FILE || undefined) ?? readConfig(configDir()).caFile;
  if (!file) return undefined;
  try {
    return readCaFile(file);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}

export function anonymousClient(server: string, caFile?: string): ApiClient {
  return new ApiClient({ server, userAgent: USER_AGENT, ca: serverCa(caFile) });
}

/** The API client with the stored sign-in, or a clear "sign in first" error. */
export function signedInClient(): ApiClient {
  return signedIn().client;
}

/** The stored sign-in: the client and the token itself (startAccess needs it). */
export function signedIn(): { client: ApiClient; token: string } {
  const dir = configDir();
  const stored = loadToken(dir);
  if (!stored) {
    const server = readConfig(dir).server;
    throw new CliError(
      server ? `not signed in; run portcullis login --server ${server}` : 'not signed in; run portcullis login --server URL',
      EXIT_CODES.notSignedIn,
    );
  }
  const ca = serverCa();
  return { client: new ApiClient({ server: stored.server, token: stored.token, userAgent: USER_AGENT, ca }), token: stored.token };
}

/** `--project NAME|ID`, else the user's only project; with several, a clear error listing them. */
export async function resolveProject(client: ApiClient, wanted?: string): Promise<ProjectDto> {
  const { projects } = await client.me();
  if (wanted) {
    const found = projects.find((p) => p.id === wanted) ?? projects.find((p) => p.name === wanted);
    if (found) return found;
    throw new CliError(`you are not a member of a project "${wanted}"; your projects: ${listNames(projects)}`, EXIT_CODES.notFound);
  }
  if (projects.length === 1) return projects[0];
  if (projects.length === 0) throw new CliError('you are not a member of any project; ask an admin to add you', EXIT_CODES.notFound);
  throw new CliError(`you are in several projects; choose one with --project NAME: ${listNames(projects)}`);
}

function listNames(projects: ProjectDto[]): string {
  return projects.length ? projects.map((p) => `${p.name} (${p.id}, ${p.role})`).join(', ') : '(none)';
}
