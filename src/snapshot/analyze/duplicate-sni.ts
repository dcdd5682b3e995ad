import type { Diagnostic, GatewayServer, Resource } from '../../model/index.js';
import type { Snapshot } from '../types.js';
import { finding } from './codes.js';
import { isPassthroughServer, serverBinds, virtualServicesFor } from './gateway-binding.js';
import { gatewayKey, matchGateways } from './rule-scope.js';

type VirtualService = Resource<'VirtualService'>;

interface Owner {
  readonly vs: VirtualService;
  readonly rule: number;
}

/** Passthrough servers of one Gateway by listener port and bind: each group becomes one set of SNI filter chains. */
function groupByListener(servers: readonly GatewayServer[]): Map<string, GatewayServer[]> {
  const groups = new Map<string, GatewayServer[]>();
  for (const s of servers) {
    if (!isPassthroughServer(s)) continue;
    const key = `${s.port.number}|${s.bind ?? ''}`;
    const list = groups.get(key);
    if (list) list.push(s);
    else groups.set(key, [s]);
  }
  return groups;
}

/**
 * TG1008: two tls matches for the same Gateway and port (in one VirtualService or several, in creation order)
 * with the same SNI host. Each match becomes an Envoy filter chain keyed by its SNI hosts and Envoy refuses two
 * identical keys, so pilot skips a whole later match that repeats any SNI host (gateway.go, CheckDuplicates).
 * Hosts compare as written: "*.a.com" and "b.a.com" are distinct chains and Envoy picks the more specific one.
 */
export function analyzeDuplicateSni(snapshot: Snapshot): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const gw of snapshot.byKind.Gateway) {
    const key = gatewayKey(gw);
    const bound = virtualServicesFor(snapshot, gw);
    for (const servers of groupByListener(gw.spec.servers).values()) {
      const port = servers[0]?.port.number;
      const known = new Map<string, Owner>();
      for (const vs of bound) {
        if (!servers.some((s) => serverBinds(gw, s, vs))) continue;
        vs.spec.tls.forEach((rule, i) => {
          rule.match.forEach((m, j) => {
            if ((m.port !== undefined && m.port !== port) || !matchGateways(vs, m).includes(key)) return;
            const k = m.sniHosts.findIndex((h) => known.has(h));
            if (k < 0) {
              for (const h of m.sniHosts) known.set(h, { vs, rule: i });
              return;
            }
            const sni = m.sniHosts[k] ?? '';
            const first = known.get(sni);
            const where =
              first && first.vs === vs
                ? `tls rule #${first.rule}`
                : `VirtualService ${first?.vs.meta.namespace}/${first?.vs.meta.name} tls rule #${first?.rule}`;
            out.push(
              finding(
                'DuplicateSniHost',
                vs,
                `spec.tls[${i}].match[${j}].sniHosts[${k}]`,
                `SNI host ${sni} on Gateway ${key} port ${port} is already routed by ${where}: this match is skipped.`,
                'Route each SNI host once per gateway port: merge the two rules or drop the repeated SNI host.',
              ),
            );
          });
        });
      }
    }
  }
  return out;
}
