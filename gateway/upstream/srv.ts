import { promises as dnsPromises, type SrvRecord, lookup as systemLookup } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { ConnectionStringError, type HostAddress, type ParsedConnectionString, parseBoolean } from './connection-string';

/**
 * The DNS look-ups `mongodb+srv://` needs. `node:dns/promises` and a `Resolver` satisfy it, so tests can point
 * the gateway at a DNS server on loopback. When `resolve4` is there too, host names are resolved through it
 * (falling back to the system resolver), so SRV targets that only that DNS server knows can be reached.
 */
export interface SrvResolver {
  resolveSrv(name: string): Promise<SrvRecord[]>;
  resolveTxt(name: string): Promise<string[][]>;
  resolve4?(name: string): Promise<string[]>;
}

export const systemSrvResolver: SrvResolver = dnsPromises;

/** The options a TXT record may carry, per the driver specification; anything else is an error there. */
const TXT_OPTIONS = Object.freeze(['authSource', 'replicaSet', 'loadBalanced'] as const);

/** True when `host` lies under the SRV name's parent domain (or under the name itself, for names of fewer than three labels). */
export function isUnderSrvDomain(host: string, srvName: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  const labels = srvName.toLowerCase().split('.');
  const domain = labels.length >= 3 ? labels.slice(1).join('.') : labels.join('.');
  return h.endsWith(`.${domain}`) && h.length > domain.length + 1;
}

function dnsErrorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/** Parses a TXT record's `k=v&k=v` into options, refusing the ones drivers refuse. */
export function parseSrvTxtOptions(records: string[][], srvName: string): Partial<ParsedConnectionString> {
  if (records.length === 0) return {};
  if (records.length > 1) throw new ConnectionStringError(`${srvName} has ${records.length} TXT records; at most one is allowed`);
  const options: Partial<ParsedConnectionString> = {};
  for (const [rawKey, value] of new URLSearchParams(records[0].join(''))) {
    const key = TXT_OPTIONS.find((k) => k.toLowerCase() === rawKey.toLowerCase());
    if (!key)
      throw new ConnectionStringError(`the TXT record of ${srvName} sets ${rawKey}; only ${TXT_OPTIONS.join(', ')} are allowed there`);
    if (key === 'loadBalanced') options.loadBalanced = parseBoolean(key, value);
    else options[key] = value;
  }
  return options;
}

/**
 * Resolves a `mongodb+srv://` string on the gateway: hosts from `_<service>._tcp.<name>` SRV records (each
 * checked to lie in the name's domain, as drivers check), options from the TXT record; options written in the
 * string itself win over the TXT record. Returns a copy with `hosts` filled.
 */
export async function resolveSrvConnectionString(
  parsed: ParsedConnectionString,
  resolver: SrvResolver = systemSrvResolver,
): Promise<ParsedConnectionString> {
  const srvName = parsed.srvName;
  if (!srvName) return parsed;
  const lookupName = `_${parsed.srvServiceName}._tcp.${srvName}`;
  let records: SrvRecord[];
  try {
    records = await resolver.resolveSrv(lookupName);
  } catch (error) {
    throw new ConnectionStringError(`could not resolve the SRV record ${lookupName}: ${dnsErrorCode(error) ?? (error as Error).message}`);
  }
  if (records.length === 0) throw new ConnectionStringError(`the SRV record ${lookupName} lists no hosts`);
  const hosts: HostAddress[] = records.map((r) => {
    if (!isUnderSrvDomain(r.name, srvName)) {
      throw new ConnectionStringError(`the SRV record ${lookupName} points to ${r.name}, which is outside the domain of ${srvName}`);
    }
    return { host: r.name.toLowerCase().replace(/\.$/, ''), port: r.port };
  });
  let txt: string[][] = [];
  try {
    txt = await resolver.resolveTxt(srvName);
  } catch (error) {
    const code = dnsErrorCode(error);
    if (code !== 'ENODATA' && code !== 'ENOTFOUND') {
      throw new ConnectionStringError(`could not resolve the TXT record of ${srvName}: ${code ?? (error as Error).message}`);
    }
  }
  const fromTxt = parseSrvTxtOptions(txt, srvName);
  const resolved: ParsedConnectionString = {
    ...parsed,
    hosts,
    replicaSet: parsed.replicaSet ?? fromTxt.replicaSet,
    authSource: parsed.authSource ?? fromTxt.authSource,
    loadBalanced: parsed.loadBalanced || (fromTxt.loadBalanced ?? false),
  };
  if (resolved.loadBalanced && hosts.length > 1) {
    throw new ConnectionStringError(`loadBalanced=true needs exactly one SRV host, but ${lookupName} lists ${hosts.length}`);
  }
  return resolved;
}

/**
 * A `net.connect` lookup that asks the injected resolver first (when it resolves A records) and the system
 * resolver after, so hosts named only by a test DNS server are reachable and ordinary names still work.
 */
export function lookupThrough(resolver: SrvResolver | undefined): LookupFunction | undefined {
  const resolve4 = resolver?.resolve4?.bind(resolver);
  if (!resolve4) return undefined;
  return (hostname, options, callback) => {
    if (isIP(hostname)) {
      systemLookup(hostname, options, callback);
      return;
    }
    resolve4(hostname).then(
      (addresses) => {
        if (addresses.length === 0) return systemLookup(hostname, options, callback);
        if (options.all)
          callback(
            null,
            addresses.map((address) => ({ address, family: 4 })),
          );
        else callback(null, addresses[0], 4);
      },
      () => systemLookup(hostname, options, callback),
    );
  };
}
