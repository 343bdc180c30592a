import type { Socket } from 'node:net';
import type { Document } from 'bson';
import type { MongoTarget } from '../../protocol/target';
import { authenticateWithScram } from '../auth/sasl-conversation';
import { SCRAM_MECHANISMS, ScramError, type ScramMechanism } from '../auth/scram';
import { DEFAULT_MAX_MESSAGE_SIZE } from '../wire/constants';
import { MONGO_ERROR_CODES, type MongoErrorName } from '../wire/errors';
import {
  ConnectionStringError,
  type HostAddress,
  parseConnectionString,
  READ_PREFERENCE_MODES,
  type ReadPreferenceMode,
} from './connection-string';
import { roleOf, SERVER_ROLES, type ServerCandidate, type ServerRole, ServerSelectionError, selectServer } from './server-selection';
import { lookupThrough, resolveSrvConnectionString, type SrvResolver } from './srv';
import { tlsOptionsFor, tlsWanted } from './tls-options';
import { DEFAULT_CONNECT_TIMEOUT_MS, UpstreamCommandError, UpstreamConnection, type UpstreamNetworkError } from './upstream-connection';

export interface ConnectUpstreamOptions {
  resolver?: SrvResolver;
  connectTimeoutMs?: number;
}

/** An upstream connection, authenticated as the account, not yet used for any hello. */
export interface AuthenticatedUpstream {
  /** Paused; the engine resumes it once it listens. */
  socket: Socket;
  address: HostAddress;
  /** The chosen server's reply to the gateway's probe hello (on a separate connection). */
  hello: Document;
  role: ServerRole;
  maxMessageSizeBytes: number;
  loadBalanced: boolean;
  mechanism: ScramMechanism;
}

/**
 * The gateway could not give this client a database connection. `message` is meant for the client and the
 * session log as it is: it names what failed and what to check, and never contains the password.
 */
export class UpstreamFailure extends Error {
  override name = 'UpstreamFailure';
  readonly code: number;
  constructor(
    message: string,
    readonly codeName: MongoErrorName,
  ) {
    super(message);
    this.code = MONGO_ERROR_CODES[codeName];
  }
}

/** How errors name what could not be reached: the resource, as the user knows it. */
export function databaseLabel(target: MongoTarget): string {
  return target.resourceName ? `the database of resource "${target.resourceName}"` : 'the database';
}

function probeHello(target: MongoTarget, authDb: string, loadBalanced: boolean): Document {
  // No `client` document: the client's own hello, forwarded later, is the one that carries its metadata.
  const hello: Document = { hello: 1, helloOk: true };
  // Without a user (a connection test of the resource alone) there is no one to ask the mechanisms of.
  if (target.username) hello.saslSupportedMechs = `${authDb}.${target.username}`;
  if (loadBalanced) hello.loadBalanced = true;
  return hello;
}

async function probe(address: HostAddress, open: (address: HostAddress) => Promise<UpstreamConnection>, helloCommand: Document) {
  const connection = await open(address);
  try {
    const started = performance.now();
    const hello = await connection.command('admin', helloCommand);
    return { address, hello, roundTripMs: performance.now() - started } satisfies ServerCandidate;
  } finally {
    connection.close();
  }
}

/**
 * For primary and primaryPreferred, the first primary (or standalone/mongos, when no replica set is named)
 * settles the choice: no need to wait for a slow or unreachable host. Other modes compare all answers.
 */
function decisiveFor(mode: ReadPreferenceMode, replicaSet: string | undefined): (c: ServerCandidate) => boolean {
  if (mode !== READ_PREFERENCE_MODES.primary && mode !== READ_PREFERENCE_MODES.primaryPreferred) return () => false;
  return (c) => {
    const role = roleOf(c.hello);
    if (role === SERVER_ROLES.primary) return replicaSet === undefined || c.hello.setName === replicaSet;
    return replicaSet === undefined && (role === SERVER_ROLES.standalone || role === SERVER_ROLES.mongos);
  };
}

/** Probes every host at once; resolves when all have answered or failed, or as soon as a decisive answer arrives. */
function probeHosts(
  hosts: HostAddress[],
  probeOne: (address: HostAddress) => Promise<ServerCandidate>,
  decisive: (c: ServerCandidate) => boolean,
): Promise<{ candidates: ServerCandidate[]; failures: string[] }> {
  return new Promise((resolve) => {
    const candidates: ServerCandidate[] = [];
    const failures: string[] = [];
    let pending = hosts.length;
    const settle = () => resolve({ candidates: [...candidates], failures: [...failures] });
    if (pending === 0) settle();
    for (const address of hosts) {
      probeOne(address)
        .then(
          (candidate) => {
            candidates.push(candidate);
            if (decisive(candidate)) settle();
          },
          (error: UpstreamNetworkError) => failures.push(error.message),
        )
        .finally(() => {
          if (--pending === 0) settle();
        });
    }
  });
}

/** SCRAM-SHA-256 when the account has it (or the server does not say), else SCRAM-SHA-1 when that is all it has. */
export function chooseMechanism(hello: Document): ScramMechanism {
  const mechs = hello.saslSupportedMechs;
  if (Array.isArray(mechs) && !mechs.includes(SCRAM_MECHANISMS.sha256) && mechs.includes(SCRAM_MECHANISMS.sha1)) {
    return SCRAM_MECHANISMS.sha1;
  }
  return SCRAM_MECHANISMS.sha256;
}

/** The server a connection would go to, chosen by read preference after probing every host; nothing authenticated yet. */
export interface ReachedUpstream {
  chosen: ServerCandidate;
  open(address: HostAddress): Promise<UpstreamConnection>;
  authDb: string;
  /** How errors name the database (databaseLabel). */
  database: string;
  loadBalanced: boolean;
}

/**
 * Parses the connection string, resolves `mongodb+srv` here on the gateway, probes every host with hello (no client
 * metadata) and picks one by read preference. Throws UpstreamFailure when no host fits.
 */
export async function reachUpstream(target: MongoTarget, options: ConnectUpstreamOptions = {}): Promise<ReachedUpstream> {
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const database = databaseLabel(target);
  let parsed: ReturnType<typeof parseConnectionString>;
  try {
    parsed = await resolveSrvConnectionString(parseConnectionString(target.connectionString), options.resolver);
  } catch (error) {
    if (error instanceof ConnectionStringError) {
      throw new UpstreamFailure(`Portcullis gateway could not use the resource's connection string: ${error.message}`, 'InvalidOptions');
    }
    throw error;
  }
  const authDb = parsed.authSource ?? target.authDatabase ?? 'admin';
  const useTls = tlsWanted(target, parsed);
  const lookup = lookupThrough(options.resolver);
  const open = (address: HostAddress) =>
    UpstreamConnection.open(address, { tls: useTls ? tlsOptionsFor(target, address.host) : undefined, lookup, timeoutMs });

  const helloCommand = probeHello(target, authDb, parsed.loadBalanced);
  const decisive = decisiveFor(parsed.readPreference, parsed.replicaSet);
  const { candidates, failures } = await probeHosts(parsed.hosts, (address) => probe(address, open, helloCommand), decisive);
  if (candidates.length === 0) {
    throw new UpstreamFailure(`Portcullis gateway could not reach ${database}: ${failures.join('; ')}`, 'HostUnreachable');
  }
  let chosen: ServerCandidate;
  try {
    chosen = parsed.loadBalanced ? candidates[0] : selectServer(candidates, parsed.readPreference, parsed.replicaSet);
  } catch (error) {
    if (error instanceof ServerSelectionError) {
      const unreachable = failures.length > 0 ? ` (unreachable: ${failures.join('; ')})` : '';
      throw new UpstreamFailure(`Portcullis gateway could not reach ${database}: ${error.message}${unreachable}`, 'HostUnreachable');
    }
    throw error;
  }
  return { chosen, open, authDb, database, loadBalanced: parsed.loadBalanced };
}

/**
 * Reaches the target as its account: parse the connection string, resolve `mongodb+srv` here on the gateway,
 * probe every host with hello (no client metadata), pick one by read preference, then open a fresh connection
 * to it and authenticate with SCRAM before anything of the client's is sent. The fresh connection has seen no
 * hello, so the client's first hello (with its metadata) can be the first one the server sees on it; MongoDB
 * accepts client metadata only in a connection's first hello.
 */
export async function connectUpstream(target: MongoTarget, options: ConnectUpstreamOptions = {}): Promise<AuthenticatedUpstream> {
  const { chosen, open, authDb, database, loadBalanced } = await reachUpstream(target, options);
  const mechanism = chooseMechanism(chosen.hello);
  let connection: UpstreamConnection;
  try {
    connection = await open(chosen.address);
  } catch (error) {
    throw new UpstreamFailure(`Portcullis gateway could not reach ${database}: ${(error as Error).message}`, 'HostUnreachable');
  }
  try {
    await authenticateWithScram((body) => connection.command(authDb, body), mechanism, target.username, target.password);
  } catch (error) {
    connection.close();
    // No host here: this message reaches the client, which is never shown internal host names.
    const who = `${target.username} (${mechanism}, auth database ${authDb})`;
    if (error instanceof UpstreamCommandError) {
      const hint = error.code === MONGO_ERROR_CODES.AuthenticationFailed ? " Check the account's stored password." : '';
      throw new UpstreamFailure(
        `Portcullis gateway could not authenticate to ${database} as ${who}: ${error.message.replace(/\.$/, '')}.${hint}`,
        'AuthenticationFailed',
      );
    }
    if (error instanceof ScramError) {
      throw new UpstreamFailure(
        `Portcullis gateway could not authenticate to ${database} as ${who}: ${error.message.replace(/\.$/, '')}.`,
        'AuthenticationFailed',
      );
    }
    throw new UpstreamFailure(`Portcullis gateway could not reach ${database}: ${(error as Error).message}`, 'HostUnreachable');
  }
  const size = chosen.hello.maxMessageSizeBytes;
  return {
    socket: connection.detach(),
    address: chosen.address,
    hello: chosen.hello,
    role: roleOf(chosen.hello),
    maxMessageSizeBytes: typeof size === 'number' && size > 0 ? size : DEFAULT_MAX_MESSAGE_SIZE,
    loadBalanced,
    mechanism,
  };
}
