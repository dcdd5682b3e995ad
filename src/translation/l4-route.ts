import type { L4MatchAttributes, Resource, RouteDestination, TLSMatchAttributes } from '../model/index.js';
import type { WeightedCluster } from '../proxy-config/types.js';
import { destinationCluster, type RouteContext } from './context.js';
import { matchApplies } from './http-route.js';

/** One tls or tcp match of a VirtualService that applies to this proxy and port, with where it routes. */
export interface L4Route {
  readonly vs: Resource<'VirtualService'>;
  /** "tls[0].match[1]": where the rule is, for chain names and diagnostics. */
  readonly where: string;
  /** TLS SNI hosts (tls rules); empty for tcp rules. */
  readonly sniHosts: readonly string[];
  readonly destinationSubnets: readonly string[];
  readonly clusters: readonly WeightedCluster[];
}

function clustersOf(
  route: readonly RouteDestination[],
  vs: Resource<'VirtualService'>,
  ctx: RouteContext,
): WeightedCluster[] {
  return route.map((rd) => ({
    cluster: destinationCluster(rd.destination, vs.meta.namespace, ctx),
    weight: rd.weight,
  }));
}

/**
 * A VirtualService's tls (or tcp) rules for one proxy and port, in order: one entry per applicable match (a rule
 * without matches applies everywhere), as pilot builds one filter chain per match.
 */
export function l4Routes(vs: Resource<'VirtualService'>, kind: 'tls' | 'tcp', ctx: RouteContext): L4Route[] {
  const out: L4Route[] = [];
  const rules = kind === 'tls' ? vs.spec.tls : vs.spec.tcp;
  rules.forEach((rule, i) => {
    if (rule.route.length === 0) return;
    const clusters = clustersOf(rule.route, vs, ctx);
    const matches: readonly (L4MatchAttributes | TLSMatchAttributes | undefined)[] =
      rule.match.length === 0 ? [undefined] : rule.match;
    matches.forEach((m, j) => {
      if (m && !matchApplies(m, ctx)) return;
      out.push({
        vs,
        where: `${kind}[${i}]${m ? `.match[${j}]` : ''}`,
        sniHosts: m && 'sniHosts' in m ? m.sniHosts : [],
        destinationSubnets: m?.destinationSubnets ?? [],
        clusters,
      });
    });
  });
  return out;
}
