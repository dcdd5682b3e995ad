// Where a cluster sends this request: the addresses its endpoints stand for, by discovery type.
import { isIP } from 'node:net';
import type { Endpoint } from '../proxy-config/types.js';
import { target, type Target } from './cluster-lb.js';
import type { CompiledCluster } from './compile-clusters.js';
import { applyConnectTo, type ConnectToRule } from './connect-to.js';
import { ProxyError } from './errors.js';
import type { HostResolver } from './resolver.js';

export interface EndpointDeps {
  readonly resolver: HostResolver;
  readonly connectTo: readonly ConnectToRule[];
  readonly warn: (message: string) => void;
}

/** The request's own destination, which ORIGINAL_DST clusters dial. */
export interface OriginalDestination {
  readonly host: string;
  readonly port: number;
}

export async function resolveTargets(
  cluster: CompiledCluster,
  original: OriginalDestination,
  deps: EndpointDeps,
): Promise<readonly Target[]> {
  switch (cluster.type) {
    case 'ORIGINAL_DST': {
      const addresses = await dial(original.host, original.port, deps, cluster.name);
      if (addresses === undefined) {
        throw new ProxyError('dns_resolution_failure', `cannot resolve ${original.host}`);
      }
      // Like a client connecting by name: the first address.
      return addresses.slice(0, 1);
    }
    case 'STATIC':
    case 'EDS':
    case 'STRICT_DNS': {
      // Endpoints that are (or --connect-to turns into) IP addresses map to the same targets for the whole
      // config: worked out once. Names are resolved per request, through the resolver's cache.
      const memo = cluster.memo.targets;
      if (memo) return memo;
      const fixed = fixedTargets(cluster.endpoints, deps);
      if (fixed) return (cluster.memo.targets = Object.freeze(fixed));
      const all = await Promise.all(cluster.endpoints.map((e) => endpointTargets(e, deps, cluster.name)));
      return all.flat();
    }
    case 'LOGICAL_DNS': {
      const memo = cluster.memo.targets;
      if (memo) return memo;
      const first = cluster.endpoints[0];
      if (!first) return [];
      const fixed = fixedTargets([first], deps);
      if (fixed) return (cluster.memo.targets = Object.freeze(fixed));
      return (await endpointTargets(first, deps, cluster.name)).slice(0, 1);
    }
  }
}

/** The endpoints' targets when every one dials an IP address (no DNS involved), else undefined. */
function fixedTargets(endpoints: readonly Endpoint[], deps: EndpointDeps): Target[] | undefined {
  const out: Target[] = [];
  for (const e of endpoints) {
    const to =
      deps.connectTo.length > 0 ? applyConnectTo(deps.connectTo, e.address, e.port) : { host: e.address, port: e.port };
    const ip = ipOf(to.host);
    if (ip === undefined) return undefined;
    out.push(target(ip, to.port, e.weight ?? 1));
  }
  return out;
}

function ipOf(host: string): string | undefined {
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  return isIP(bare) ? bare : undefined;
}

async function endpointTargets(e: Endpoint, deps: EndpointDeps, cluster: string): Promise<Target[]> {
  const targets = await dial(e.address, e.port, deps, cluster);
  if (!targets) return [];
  const weight = e.weight ?? 1;
  return weight === 1 ? targets : targets.map((t) => target(t.ip, t.port, weight));
}

/** connect-to first (it matches the name the request used), then DNS. Undefined when resolution failed. */
async function dial(host: string, port: number, deps: EndpointDeps, cluster: string): Promise<Target[] | undefined> {
  const to = deps.connectTo.length > 0 ? applyConnectTo(deps.connectTo, host, port) : { host, port };
  const bare = to.host.startsWith('[') ? to.host.slice(1, -1) : to.host;
  if (isIP(bare)) return [target(bare, to.port)];
  try {
    const addresses = await deps.resolver.resolve(bare);
    if (addresses.length === 0) deps.warn(`DNS: ${bare} has no addresses (cluster ${cluster})`);
    return addresses.map((ip) => target(ip, to.port));
  } catch (err) {
    deps.warn(`DNS: cannot resolve ${bare} (cluster ${cluster}): ${(err as Error).message}`);
    return undefined;
  }
}
