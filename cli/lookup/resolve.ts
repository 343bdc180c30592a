/**
 * Resources, accounts and gateways are named on the command line by name or id; these turn either into the
 * object, or into a "not found" error that lists close matches and the command to see them all.
 */
import type { AccountDto, GatewayDto, ResourceDto } from '../../protocol/api';
import { type ApiClient, collectPages, isApiError } from '../../proxy-core/api-client';
import { displayMessage, displayText } from '../../proxy-core/display-text';
import { CliError } from '../errors';
import { EXIT_CODES } from '../exit-codes';
import { closeMatches } from './close-matches';

const looksLikeId = (prefix: string, ref: string) => ref.startsWith(prefix) && /^[a-z]+_[A-Za-z0-9]+$/.test(ref);

export async function resolveResource(client: ApiClient, projectId: string, ref: string): Promise<ResourceDto> {
  if (looksLikeId('res_', ref)) {
    try {
      return await client.getResource(ref);
    } catch (error) {
      if (!isApiError(error, 'not_found')) throw error;
    }
  }
  const named = await client.listResources({ projectId, name: ref });
  const exact = named.items.find((r) => r.name === ref);
  if (exact) return exact;
  const all = await collectPages((cursor) => client.listResources({ projectId, cursor, limit: 200 }));
  const ignoringCase = all.filter((r) => r.name.toLowerCase() === ref.toLowerCase());
  if (ignoringCase.length === 1) return ignoringCase[0];
  throw notFound(
    'resource',
    ref,
    all.map((r) => r.name),
    'portcullis resource list',
  );
}

export async function resolveAccount(client: ApiClient, resource: ResourceDto, ref: string): Promise<AccountDto> {
  if (looksLikeId('acc_', ref)) {
    try {
      const account = await client.getAccount(ref);
      if (account.resourceId === resource.id) return account;
    } catch (error) {
      if (!isApiError(error, 'not_found')) throw error;
    }
  }
  const named = await client.listAccounts(resource.id, { name: ref });
  const exact = named.items.find((a) => a.name === ref);
  if (exact) return exact;
  const all = await collectPages((cursor) => client.listAccounts(resource.id, { cursor, limit: 200 }));
  const ignoringCase = all.filter((a) => a.name.toLowerCase() === ref.toLowerCase());
  if (ignoringCase.length === 1) return ignoringCase[0];
  throw notFound(
    `account on resource "${resource.name}"`,
    ref,
    all.map((a) => a.name),
    `portcullis account list --resource ${quoteArg(resource.name)}`,
  );
}

export async function resolveGateway(client: ApiClient, projectId: string, ref: string): Promise<GatewayDto> {
  const gateways = await client.listGateways(projectId);
  const found = gateways.find((g) => g.id === ref) ?? gateways.find((g) => g.name === ref);
  if (found) return found;
  const ignoringCase = gateways.filter((g) => g.name.toLowerCase() === ref.toLowerCase());
  if (ignoringCase.length === 1) return ignoringCase[0];
  if (gateways.length === 0) {
    throw new CliError(
      `no gateway "${ref}": this project has no gateway yet; create an enrollment token with portcullis gateway enroll-token and start one`,
      EXIT_CODES.notFound,
    );
  }
  throw notFound(
    'gateway',
    ref,
    gateways.map((g) => g.name),
    'portcullis gateway list',
  );
}

function notFound(kind: string, ref: string, names: string[], listCommand: string): CliError {
  const close = closeMatches(ref, names);
  const hint = close.length ? `; did you mean ${close.map((n) => `"${n}"`).join(', ')}?` : '';
  return new CliError(`no ${kind} named "${ref}"${hint} (see ${listCommand})`, EXIT_CODES.notFound);
}

/**
 * A name as a shell word for the commands we print. A name with control characters gets bash's and zsh's $'…'
 * quoting, whose escapes are displayText's: the printed command still works when pasted, and never puts a raw
 * control character on the terminal.
 */
export function quoteArg(value: string): string {
  if (/^[\w@%+=:,./-]+$/.test(value)) return value;
  if (displayMessage(value) !== value) return `$'${displayText(value).replace(/'/g, "\\'")}'`;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
