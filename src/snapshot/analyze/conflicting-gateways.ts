import type { Diagnostic, Resource } from '../../model/index.js';
import { labelsMatch } from '../labels.js';
import type { Snapshot } from '../types.js';
import { finding } from './codes.js';
import { gatewayKey } from './rule-scope.js';

type Gateway = Resource<'Gateway'>;

function selectorText(gw: Gateway): string {
  return Object.entries(gw.spec.selector)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/**
 * IST0145, as istioctl's ConflictingGatewayAnalyzer: two Gateways on the same gateway workloads (the same
 * selector, or selectors that pick a common egress gateway) with a server on the same port and the same host
 * written the same way with the same bind. The workload keeps one server for the host and drops the other.
 * Hosts are compared as written, as Istio's CheckDuplicates does ("*.a.com" and "b.a.com" do not conflict).
 */
export function analyzeConflictingGateways(snapshot: Snapshot): Diagnostic[] {
  const gateways = snapshot.byKind.Gateway;
  const selected = new Map<Gateway, Set<string>>(
    gateways.map((gw) => [
      gw,
      new Set(
        snapshot.egressGateways
          .filter((g) => labelsMatch(gw.spec.selector, g.labels))
          .map((g) => `${g.namespace}/${g.name}`),
      ),
    ]),
  );
  const sameWorkloads = (a: Gateway, b: Gateway): boolean => {
    if (selectorText(a) === selectorText(b)) return true;
    const sb = selected.get(b) ?? new Set<string>();
    return [...(selected.get(a) ?? [])].some((g) => sb.has(g));
  };
  const out: Diagnostic[] = [];
  for (const gw of gateways) {
    const others = gateways.filter((o) => o !== gw && sameWorkloads(gw, o));
    if (others.length === 0) continue;
    gw.spec.servers.forEach((server, i) => {
      const bind = server.bind ?? '';
      const conflicts = new Set<string>();
      let firstHost = -1;
      for (const other of others) {
        for (const os of other.spec.servers) {
          if (os.port.number !== server.port.number || (os.bind ?? '') !== bind) continue;
          const j = server.hosts.findIndex((h) => os.hosts.includes(h));
          if (j < 0) continue;
          conflicts.add(gatewayKey(other));
          if (firstHost < 0 || j < firstHost) firstHost = j;
        }
      }
      if (conflicts.size === 0) return;
      const names = [...conflicts].sort().join(', ');
      out.push(
        finding(
          'ConflictingGateways',
          gw,
          `spec.servers[${i}].hosts[${firstHost}]`,
          `Gateway ${gatewayKey(gw)} conflicts with ${names}: same workloads (selector ${selectorText(gw)}), port ${server.port.number}, host ${server.hosts[firstHost]}.`,
          'Serve each host on a port from one Gateway only: merge the servers, or change the port or host of one of them.',
        ),
      );
    });
  }
  return out;
}
