import { Resolver } from 'node:dns/promises';
import { freePort } from './ports';

// dns2 ships no types; only the parts used here are described.
// biome-ignore lint/suspicious/noExplicitAny: untyped CommonJS package
const dns2: any = require('dns2');

export interface DnsRecords {
  /** name -> SRV answers, e.g. `_mongodb._tcp.cluster.db.test`. */
  srv?: Record<string, { target: string; port: number; priority?: number; weight?: number }[]>;
  /** name -> TXT records, each a list of strings joined by the client. */
  txt?: Record<string, string[][]>;
  /** name -> IPv4 addresses. */
  a?: Record<string, string[]>;
}

export interface DnsServer {
  port: number;
  /** A node:dns Resolver that asks only this server. */
  resolver: Resolver;
  /** Names asked, in order, as `TYPE name`. */
  queries: string[];
  stop(): Promise<void>;
}

/**
 * A real DNS server (dns2, UDP and TCP) on a random loopback port answering SRV, TXT and A questions from
 * `records`; unknown names get an empty answer (NODATA to the resolver).
 */
export async function startDnsServer(records: DnsRecords): Promise<DnsServer> {
  const { Packet } = dns2;
  const queries: string[] = [];
  const lower = <T>(map: Record<string, T> | undefined) =>
    new Map(Object.entries(map ?? {}).map(([k, v]) => [k.toLowerCase(), v] as const));
  const srv = lower(records.srv);
  const txt = lower(records.txt);
  const a = lower(records.a);
  const server = dns2.createServer({
    udp: true,
    tcp: true,
    // biome-ignore lint/suspicious/noExplicitAny: dns2 packet objects
    handle(request: any, send: (response: any) => void) {
      const response = Packet.createResponseFromRequest(request);
      for (const question of request.questions) {
        const name = String(question.name).toLowerCase();
        const base = { name: question.name, class: Packet.CLASS.IN, ttl: 60 };
        if (question.type === Packet.TYPE.SRV) {
          queries.push(`SRV ${name}`);
          for (const r of srv.get(name) ?? []) {
            response.answers.push({
              ...base,
              type: Packet.TYPE.SRV,
              priority: r.priority ?? 0,
              weight: r.weight ?? 0,
              port: r.port,
              target: r.target,
            });
          }
        } else if (question.type === Packet.TYPE.TXT) {
          queries.push(`TXT ${name}`);
          for (const data of txt.get(name) ?? []) response.answers.push({ ...base, type: Packet.TYPE.TXT, data });
        } else if (question.type === Packet.TYPE.A) {
          queries.push(`A ${name}`);
          for (const address of a.get(name) ?? []) response.answers.push({ ...base, type: Packet.TYPE.A, address });
        }
      }
      send(response);
    },
  });
  const port = await freePort();
  await server.listen({ udp: { port, address: '127.0.0.1', type: 'udp4' }, tcp: { port, address: '127.0.0.1' } });
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([`127.0.0.1:${port}`]);
  return {
    port,
    resolver,
    queries,
    async stop() {
      resolver.cancel();
      await server.close();
    },
  };
}
