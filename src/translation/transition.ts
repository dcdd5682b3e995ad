// Make before break. A change that touches both the sidecars and the gateways is pushed in three steps: the
// gateways first get a config that serves what the old and the new configuration route to them, then the
// sidecars get the new one, then the gateways drop what only the old one had. At every moment each request that
// both configurations allow finds a gateway that knows its host: the gateway learns a host before any sidecar
// sends it there, and forgets it only once no sidecar does.
import type { FilterChain, Listener, ProxyConfig, RouteConfig, VirtualHost } from '../proxy-config/types.js';

/**
 * `newer`, plus what only `older` has: its listeners (on addresses and ports `newer` leaves free), the filter
 * chains and virtual-host domains of listeners and route configs both have, and its clusters. Where both define
 * something, `newer`'s definition is the one in force.
 */
export function transitionConfig(older: ProxyConfig, newer: ProxyConfig, version: string): ProxyConfig {
  return {
    ...newer,
    version,
    listeners: mergeListeners(older.listeners, newer.listeners),
    routeConfigs: mergeByName(older.routeConfigs, newer.routeConfigs, mergeRouteConfig),
    clusters: mergeByName(older.clusters, newer.clusters, (_, n) => n),
  };
}

function mergeByName<T extends { readonly name: string }>(
  older: readonly T[],
  newer: readonly T[],
  both: (older: T, newer: T) => T,
): T[] {
  const previous = new Map(older.map((o) => [o.name, o] as const));
  const names = new Set(newer.map((n) => n.name));
  return [
    ...newer.map((n) => {
      const o = previous.get(n.name);
      return o ? both(o, n) : n;
    }),
    ...older.filter((o) => !names.has(o.name)),
  ];
}

function mergeListeners(older: readonly Listener[], newer: readonly Listener[]): Listener[] {
  const bound = new Set(newer.map((l) => `${l.address}:${l.port}`));
  const merged = mergeByName(older, newer, (o, n) =>
    o.kind === 'gateway-network' && n.kind === 'gateway-network'
      ? { ...n, filterChains: mergeChains(o.filterChains, n.filterChains) }
      : n,
  );
  const names = new Set(newer.map((l) => l.name));
  return merged.filter((l) => names.has(l.name) || !bound.has(`${l.address}:${l.port}`));
}

/** The older chains whose server names the newer ones do not claim. */
function mergeChains(older: readonly FilterChain[], newer: readonly FilterChain[]): FilterChain[] {
  const names = new Set(newer.map((c) => c.name));
  const claimed = new Set(newer.flatMap((c) => c.match.serverNames ?? []));
  return [
    ...newer,
    ...older.filter((c) => !names.has(c.name) && !(c.match.serverNames ?? []).some((s) => claimed.has(s))),
  ];
}

function mergeRouteConfig(older: RouteConfig, newer: RouteConfig): RouteConfig {
  const claimed = new Set(newer.virtualHosts.flatMap((v) => v.domains));
  const kept: VirtualHost[] = [];
  for (const v of older.virtualHosts) {
    const domains = v.domains.filter((d) => !claimed.has(d));
    if (domains.length > 0) kept.push({ ...v, domains });
  }
  return { ...newer, virtualHosts: [...newer.virtualHosts, ...kept] };
}
