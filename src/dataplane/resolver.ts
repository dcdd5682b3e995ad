// How the data plane turns hostnames into addresses. Injected so tests and `--dns-server` can replace the
// system resolver.
import { lookup, Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface HostResolver {
  /** IPv4/IPv6 addresses; rejects when the name cannot be resolved. */
  resolve(hostname: string): Promise<string[]>;
}

/** Envoy's dns_refresh_rate default: how long a name resolved by the system keeps its addresses. */
export const SYSTEM_DNS_REFRESH_MS = 5_000;

/**
 * The system's resolver (getaddrinfo: /etc/hosts, then DNS). It gives no TTL, so answers are kept for Envoy's
 * default refresh rate: a STRICT_DNS cluster costs a lookup every few seconds, not one per request (each lookup
 * is a job on libuv's small thread pool). Failures are not kept.
 */
export function systemResolver(
  options: { now?: () => number; lookup?: (hostname: string) => Promise<string[]> } = {},
): HostResolver {
  const lookupAll =
    options.lookup ?? (async (hostname: string) => (await lookup(hostname, { all: true })).map((a) => a.address));
  return cachingResolver(options.now ?? Date.now, async (name) => ({
    addresses: await lookupAll(name),
    ttlMs: SYSTEM_DNS_REFRESH_MS,
  }));
}

const MIN_TTL_S = 1;
const MAX_TTL_S = 30;

/**
 * Asks the given DNS servers ("127.0.0.1:5353") directly: A records, then AAAA when there are none. Answers are
 * cached for their TTL, clamped to [1s, 30s], so STRICT_DNS clusters follow DNS changes without a query per request.
 */
export function dnsServerResolver(servers: string[], options: { now?: () => number } = {}): HostResolver {
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers(servers);

  return cachingResolver(options.now ?? Date.now, async (name) => {
    let records = await resolver.resolve4(name, { ttl: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENODATA' || err.code === 'ENOTFOUND') return [];
      throw err;
    });
    if (records.length === 0) records = await resolver.resolve6(name, { ttl: true });
    if (records.length === 0) throw Object.assign(new Error(`no addresses for ${name}`), { code: 'ENODATA' });
    const ttl = Math.min(MAX_TTL_S, Math.max(MIN_TTL_S, Math.min(...records.map((r) => r.ttl))));
    return { addresses: records.map((r) => r.address), ttlMs: ttl * 1000 };
  });
}

/**
 * IP literals as they are; names through `query`, its answer kept for its ttlMs, one query in flight per name
 * shared by every request that asks meanwhile. Failures are not kept.
 */
function cachingResolver(
  now: () => number,
  query: (name: string) => Promise<{ addresses: string[]; ttlMs: number }>,
): HostResolver {
  const cache = new Map<string, { addresses: string[]; expires: number }>();
  const inflight = new Map<string, Promise<string[]>>();
  return {
    resolve(hostname) {
      const bare = stripBrackets(hostname);
      if (isIP(bare)) return Promise.resolve([bare]);
      const name = bare.toLowerCase();
      const hit = cache.get(name);
      if (hit && hit.expires > now()) return Promise.resolve(hit.addresses);
      let pending = inflight.get(name);
      if (!pending) {
        pending = query(name)
          .then(({ addresses, ttlMs }) => {
            cache.set(name, { addresses, expires: now() + ttlMs });
            return addresses;
          })
          .finally(() => inflight.delete(name));
        inflight.set(name, pending);
      }
      return pending;
    },
  };
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
