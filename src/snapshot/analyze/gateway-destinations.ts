import type { Diagnostic } from '../../model/index.js';
import { isWildcardHost } from '../host.js';
import type { RegistryService } from '../registry-types.js';
import type { Snapshot } from '../types.js';
import { MESH_GATEWAY } from '../virtual-services.js';
import { finding } from './codes.js';
import { destinationsOf } from './destinations.js';
import { ruleAppliesTo } from './rule-scope.js';

/** Why a gateway cannot dial the service, or undefined when it can. */
function withoutEndpoints(s: RegistryService): string | undefined {
  if (s.origin !== 'ServiceEntry' || s.endpoints.length > 0) return undefined;
  if (s.resolution === 'NONE')
    return 'resolution NONE: a gateway has no original destination to fall back on, so the cluster has no endpoints';
  if ((s.resolution === 'DNS' || s.resolution === 'DNS_ROUND_ROBIN') && isWildcardHost(s.host)) {
    return `resolution ${s.resolution} with the wildcard host ${s.host} and no endpoints: there is no name to resolve`;
  }
  return undefined;
}

/**
 * TG1002: a rule that applies at a Gateway routes to a ServiceEntry host the gateway cannot dial. Sidecars treat
 * resolution NONE as "original destination"; a gateway's cluster for it is EDS with no endpoints, as is a DNS
 * cluster for a wildcard host without endpoints, so every request gets 503 UH (no_healthy_upstream).
 * Reported once per destination, naming the first Gateway the rule applies to.
 */
export function analyzeGatewayDestinations(snapshot: Snapshot): Diagnostic[] {
  const out: Diagnostic[] = [];
  const gateways = new Set(snapshot.byKind.Gateway.map((g) => `${g.meta.namespace}/${g.meta.name}`));
  for (const vs of snapshot.byKind.VirtualService) {
    const ns = vs.meta.namespace;
    const vsGateways = vs.spec.gateways.filter((g) => g !== MESH_GATEWAY && gateways.has(g));
    if (vsGateways.length === 0) continue;
    for (const { destination, field, match } of destinationsOf(vs)) {
      const gw = vsGateways.find((g) => ruleAppliesTo(vs, match, g));
      if (!gw) continue;
      const service = snapshot.registry.resolve(destination.host, ns) ?? snapshot.registry.lookup(destination.host, ns);
      const why = service && withoutEndpoints(service);
      if (!service || !why) continue;
      const se = service.declaredBy ? `${service.declaredBy.namespace}/${service.declaredBy.name}` : service.namespace;
      out.push(
        finding(
          'GatewayDestinationWithoutEndpoints',
          vs,
          `${field}.host`,
          `Gateway ${gw} routes to ${destination.host}, declared by ServiceEntry ${se} with ${why}; requests get 503 UH.`,
          service.resolution === 'NONE'
            ? `Set resolution: DNS on ServiceEntry ${se} (or STATIC with endpoints) so that the gateway can resolve ${service.host}.`
            : `Route the gateway to a concrete host declared with resolution DNS, or give ServiceEntry ${se} endpoints.`,
        ),
      );
    }
  }
  return out;
}
