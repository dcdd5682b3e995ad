import type { Diagnostic, Resource } from '../../model/index.js';
import { isWildcardHost } from '../host.js';
import type { Snapshot } from '../types.js';
import { MESH_GATEWAY } from '../virtual-services.js';
import { finding } from './codes.js';
import { hostServices } from './host-services.js';
import { matchGateways, rulesOf, type RuleRef } from './rule-scope.js';

type VirtualService = Resource<'VirtualService'>;

/** Sidecars give an HTTP host that no service declares a virtual host on port 80 only. */
const UNDECLARED_HTTP_PORT = 80;

/** The ports sidecars can see traffic for `host` on, as the VirtualService's namespace sees the registry. */
function hostPorts(snapshot: Snapshot, vs: VirtualService, host: string, kind: RuleRef['kind']): number[] {
  const services = hostServices(snapshot, host, vs.meta.namespace);
  const ports = services.all.flatMap((s) => s.ports.map((p) => p.number));
  if (kind === 'http' && (!services.reached || isWildcardHost(host))) ports.push(UNDECLARED_HTTP_PORT);
  return ports;
}

/** Every port sidecars can see traffic for the VirtualService's hosts on, sorted. */
function hostSidePorts(snapshot: Snapshot, vs: VirtualService, kind: RuleRef['kind']): number[] {
  return [...new Set(vs.spec.hosts.flatMap((h) => hostPorts(snapshot, vs, h, kind)))].sort((a, b) => a - b);
}

function destinationPorts(snapshot: Snapshot, vs: VirtualService, rule: RuleRef): number[] {
  const spec =
    rule.kind === 'http'
      ? vs.spec.http[rule.index]
      : rule.kind === 'tls'
        ? vs.spec.tls[rule.index]
        : vs.spec.tcp[rule.index];
  const ns = vs.meta.namespace;
  return (spec?.route ?? []).flatMap((r) => {
    const s = snapshot.registry.resolve(r.destination.host, ns) ?? snapshot.registry.lookup(r.destination.host, ns);
    return s ? s.ports.map((p) => p.number) : [];
  });
}

/** TG1004's condition: neither the VirtualService's hosts nor the rule's destinations are declared on `port`. */
export function matchPortUndeclared(snapshot: Snapshot, vs: VirtualService, rule: RuleRef, port: number): boolean {
  return !hostSidePorts(snapshot, vs, rule.kind).includes(port) && !destinationPorts(snapshot, vs, rule).includes(port);
}

/**
 * TG1004: a mesh rule (http, tls or tcp) whose match.port is a port that neither the VirtualService's hosts nor the
 * rule's destinations are declared with. Sidecars only build listeners and route configs for declared service
 * ports (plus port 80 for HTTP hosts nobody declares), and match.port is checked against that listener port, so
 * the rule never matches: traffic for the host keeps going wherever it went before, typically straight out
 * instead of to the egress gateway.
 */
export function analyzeMeshRoutePorts(snapshot: Snapshot): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const vs of snapshot.byKind.VirtualService) {
    if (!vs.spec.gateways.includes(MESH_GATEWAY)) continue;
    for (const rule of rulesOf(vs)) {
      rule.match.forEach((m, j) => {
        if (m.port === undefined || !matchGateways(vs, m).includes(MESH_GATEWAY)) return;
        if (!matchPortUndeclared(snapshot, vs, rule, m.port)) return;
        const hostSide = hostSidePorts(snapshot, vs, rule.kind);
        out.push(
          finding(
            'MeshRouteNeverMatches',
            vs,
            `${rule.field}.match[${j}].port`,
            `${rule.kind} rule #${rule.index} matches port ${m.port} for sidecars, but [${vs.spec.hosts.join(', ')}] ${hostSide.length > 0 ? `are only declared on port${hostSide.length > 1 ? 's' : ''} ${hostSide.join(', ')}` : 'are not declared on any port'}: sidecars never see traffic for these hosts on port ${m.port}, so the rule never matches.`,
            hostSide.length > 0
              ? `Set match.port to the port clients call (${hostSide.join(' or ')}), or add port ${m.port} to the ServiceEntry of the host.`
              : `Declare the host with a ServiceEntry that has port ${m.port}.`,
          ),
        );
      });
    }
  }
  return out;
}
