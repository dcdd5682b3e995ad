import type { Diagnostic, PortProtocol, Resource } from '../../model/index.js';
import { isHttpProtocol } from '../port-protocol.js';
import type { RegistryService } from '../registry-types.js';
import type { Snapshot } from '../types.js';
import { MESH_GATEWAY } from '../virtual-services.js';
import { finding } from './codes.js';
import { hostServices } from './host-services.js';
import { matchPortUndeclared } from './mesh-route-ports.js';
import { matchGateways, rulesOf, type RuleRef, type ScopedMatch } from './rule-scope.js';

type VirtualService = Resource<'VirtualService'>;

/**
 * The service ports sidecars apply a rule of this kind on: tls rules become SNI chains on TLS and HTTPS ports only;
 * tcp rules apply on every port that is not HTTP (HTTP ports are routed by http rules).
 */
function usable(kind: 'tls' | 'tcp', protocol: PortProtocol): boolean {
  return kind === 'tls' ? protocol === 'TLS' || protocol === 'HTTPS' : !isHttpProtocol(protocol);
}

/** The matches of a rule that apply to sidecars, with their index; a rule without matches yields one catch-all. */
function meshMatches(vs: VirtualService, rule: RuleRef): { readonly m: ScopedMatch; readonly j?: number }[] {
  if (rule.match.length === 0) return [{ m: { gateways: [] } }];
  return rule.match.flatMap((m, j) => (matchGateways(vs, m).includes(MESH_GATEWAY) ? [{ m, j }] : []));
}

/** What the hosts' services declare, in words, for the message. */
function declared(services: readonly RegistryService[], hosts: string, port: number | undefined): string {
  if (services.length === 0) return `no service declares ${hosts}`;
  const ports = services.flatMap((s) => s.ports.filter((p) => port === undefined || p.number === port));
  if (ports.length === 0) return `${hosts} ${services.length > 1 ? 'are' : 'is'} not declared on port ${port}`;
  const list = ports.map((p) => `${p.number} as ${p.protocol}`).join(', ');
  return `${hosts} ${services.length > 1 ? 'are' : 'is'} declared ${port === undefined ? 'only ' : ''}on port${ports.length > 1 ? 's' : ''} ${list}`;
}

/**
 * TG1013: a mesh `tls` rule whose hosts have no TLS or HTTPS service port it could apply on (its match.port, or any
 * port), or a mesh `tcp` rule whose hosts have no non-HTTP port it could apply on. Sidecars build their SNI chains
 * from tls rules only on the TLS/HTTPS ports of the VirtualService's services, and their destination chains from
 * tcp rules only on non-HTTP ports, so the rule never applies: connections are routed as if it were not there (for
 * a host no service declares: straight out under ALLOW_ANY, refused under REGISTRY_ONLY). A
 * match.port no port of the hosts (or destinations) has at all is TG1004's finding and is not repeated here.
 */
export function analyzeMeshL4RulePorts(snapshot: Snapshot): Diagnostic[] {
  const out: Diagnostic[] = [];
  const registryOnly = snapshot.mesh.outboundTrafficPolicy === 'REGISTRY_ONLY';
  for (const vs of snapshot.byKind.VirtualService) {
    if (!vs.spec.gateways.includes(MESH_GATEWAY)) continue;
    const services = [...new Set(vs.spec.hosts.flatMap((h) => hostServices(snapshot, h, vs.meta.namespace).all))];
    const hosts = `[${vs.spec.hosts.join(', ')}]`;
    for (const rule of rulesOf(vs)) {
      const kind = rule.kind;
      if (kind === 'http') continue;
      for (const { m, j } of meshMatches(vs, rule)) {
        const ports = services.flatMap((s) => s.ports.filter((p) => usable(kind, p.protocol)));
        if (ports.some((p) => m.port === undefined || p.number === m.port)) continue;
        if (m.port !== undefined && matchPortUndeclared(snapshot, vs, rule, m.port)) continue;
        const where = j === undefined ? rule.field : `${rule.field}.match[${j}]`;
        const fate =
          services.length === 0
            ? registryOnly
              ? 'under REGISTRY_ONLY the connection (a CONNECT too) is refused'
              : 'the connection goes straight out (PassthroughCluster), not where the rule says'
            : 'connections never go where it routes them';
        const how =
          kind === 'tls'
            ? 'sidecars route TLS by SNI only on ports a service of the host declares with protocol TLS or HTTPS'
            : 'sidecars apply tcp rules only on service ports that are not HTTP (HTTP ports are routed by http rules)';
        const port = m.port ?? (kind === 'tls' ? 443 : undefined);
        out.push(
          finding(
            'MeshL4RuleWithoutServicePort',
            vs,
            m.port !== undefined ? `${where}.port` : where,
            `${kind} rule #${rule.index} applies to sidecars${m.port !== undefined ? ` on port ${m.port}` : ''}, but ${declared(services, hosts, m.port)}: ${how}, so the rule never applies and ${fate}.`,
            kind === 'tls'
              ? `Declare port ${port} of ${vs.spec.hosts[0] ?? 'the host'} with protocol TLS (or HTTPS) in a ServiceEntry.`
              : `Declare ${port !== undefined ? `port ${port}` : 'the port'} of ${vs.spec.hosts[0] ?? 'the host'} with protocol TCP in a ServiceEntry (with addresses), or route the port with an http rule if it carries HTTP.`,
          ),
        );
      }
    }
  }
  return out;
}
