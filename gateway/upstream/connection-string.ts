import { isIP } from 'node:net';
import ConnectionString from 'mongodb-connection-string-url';

/** Read preference modes a MongoDB connection string may name. */
export const READ_PREFERENCE_MODES = Object.freeze({
  primary: 'primary',
  primaryPreferred: 'primaryPreferred',
  secondary: 'secondary',
  secondaryPreferred: 'secondaryPreferred',
  nearest: 'nearest',
} as const);
export type ReadPreferenceMode = (typeof READ_PREFERENCE_MODES)[keyof typeof READ_PREFERENCE_MODES];

export interface HostAddress {
  host: string;
  port: number;
}

/** What the gateway takes from a target's connection string; options it does not need are ignored. */
export interface ParsedConnectionString {
  /** Seed hosts; empty for `mongodb+srv://` until SRV resolution fills them. */
  hosts: HostAddress[];
  /** For `mongodb+srv://`: the name whose `_mongodb._tcp.` SRV record lists the hosts. */
  srvName?: string;
  srvServiceName: string;
  readPreference: ReadPreferenceMode;
  replicaSet?: string;
  authSource?: string;
  loadBalanced: boolean;
  /** `tls`/`ssl` as the string says; undefined when it does not say. */
  tls?: boolean;
}

/** The target's connection string is unusable; the message says what to fix and never repeats a secret. */
export class ConnectionStringError extends Error {
  override name = 'ConnectionStringError';
}

export const DEFAULT_MONGODB_PORT = 27017;

export function parseBoolean(name: string, value: string | null): boolean | undefined {
  if (value === null) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new ConnectionStringError(`connection string option ${name}=${value} is not true or false`);
}

/** `host`, `host:port`, `[v6]`, `[v6]:port` into an address. */
export function parseHostAddress(text: string): HostAddress {
  let host = text;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) throw new ConnectionStringError(`host "${text}" has an unclosed "["`);
    host = text.slice(1, end);
    if (text.length > end + 1) {
      if (text[end + 1] !== ':') throw new ConnectionStringError(`host "${text}" is not [address]:port`);
      portText = text.slice(end + 2);
    }
  } else {
    const colon = text.lastIndexOf(':');
    if (colon >= 0) {
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
    }
  }
  if (!host) throw new ConnectionStringError(`host "${text}" has no name`);
  const port = portText === undefined ? DEFAULT_MONGODB_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConnectionStringError(`host "${text}" has an invalid port`);
  return { host: host.toLowerCase(), port };
}

/** `host:port` for messages, bracketing IPv6. */
export function formatHostAddress({ host, port }: HostAddress): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

export function parseReadPreference(value: string | null): ReadPreferenceMode {
  if (value === null || value === '') return READ_PREFERENCE_MODES.primary;
  const mode = Object.values(READ_PREFERENCE_MODES).find((m) => m.toLowerCase() === value.toLowerCase());
  if (!mode) {
    throw new ConnectionStringError(`readPreference=${value} is not one of ${Object.values(READ_PREFERENCE_MODES).join(', ')}`);
  }
  return mode;
}

/** Parses `mongodb://` and `mongodb+srv://` strings with the driver's own parser, then checks what the gateway relies on. */
export function parseConnectionString(text: string): ParsedConnectionString {
  let cs: ConnectionString;
  try {
    cs = new ConnectionString(text);
  } catch (error) {
    throw new ConnectionStringError(`the target's connection string is not valid: ${(error as Error).message}`);
  }
  if (cs.username || cs.password) {
    throw new ConnectionStringError(
      "the target's connection string contains credentials; remove them (the account's stored credentials are used)",
    );
  }
  const params = cs.searchParams;
  const tls = parseBoolean('tls', params.get('tls')) ?? parseBoolean('ssl', params.get('ssl'));
  const parsed: ParsedConnectionString = {
    hosts: [],
    srvServiceName: params.get('srvServiceName') || 'mongodb',
    readPreference: parseReadPreference(params.get('readPreference')),
    replicaSet: params.get('replicaSet') || undefined,
    authSource: params.get('authSource') || undefined,
    loadBalanced: parseBoolean('loadBalanced', params.get('loadBalanced')) ?? false,
    tls,
  };
  if (cs.isSRV) {
    parsed.srvName = cs.hosts[0].toLowerCase();
  } else {
    parsed.hosts = cs.hosts.map(parseHostAddress);
  }
  if (parsed.loadBalanced && parsed.hosts.length > 1) {
    throw new ConnectionStringError('loadBalanced=true allows only one host');
  }
  return parsed;
}
