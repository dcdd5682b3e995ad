import type { Diagnostic } from '../../model/index.js';
import type { Snapshot } from '../types.js';
import { MESH_GATEWAY } from '../virtual-services.js';
import { finding } from './codes.js';
import { destinationsOf } from './destinations.js';
import { rulesOf } from './rule-scope.js';
import { SubsetOwners } from './subset-owners.js';

/**
 * IST0101 for gateways, destination hosts and subsets a VirtualService names but nothing declares. A subset counts
 * as declared when a DestinationRule in any namespace defines it for the host, as in istioctl; whether the clients
 * of the route can see that rule is TG1003's question.
 */
export function analyzeVirtualServiceRefs(snapshot: Snapshot): Diagnostic[] {
  const out: Diagnostic[] = [];
  const gateways = new Set(snapshot.byKind.Gateway.map((g) => `${g.meta.namespace}/${g.meta.name}`));
  const subsets = new SubsetOwners(snapshot.byKind.DestinationRule);
  for (const vs of snapshot.byKind.VirtualService) {
    const checkGateway = (gw: string, field: string): void => {
      if (gw === MESH_GATEWAY || gateways.has(gw)) return;
      out.push(
        finding(
          'ReferencedResourceNotFound',
          vs,
          field,
          `gateway ${gw} does not exist`,
          `Create Gateway ${gw}, or fix the reference ("namespace/name"; a bare name means the VirtualService's namespace).`,
        ),
      );
    };
    vs.spec.gateways.forEach((gw, i) => checkGateway(gw, `spec.gateways[${i}]`));
    for (const rule of rulesOf(vs)) {
      rule.match.forEach((m, j) =>
        m.gateways.forEach((gw, k) => checkGateway(gw, `${rule.field}.match[${j}].gateways[${k}]`)),
      );
    }

    for (const { destination, field } of destinationsOf(vs)) {
      const ns = vs.meta.namespace;
      const service = snapshot.registry.resolve(destination.host, ns) ?? snapshot.registry.lookup(destination.host, ns);
      if (!service) {
        out.push(
          finding(
            'ReferencedResourceNotFound',
            vs,
            `${field}.host`,
            `destination host ${destination.host} is not a known service (no ServiceEntry, Service or gateway declares it)`,
            'Declare the host with a ServiceEntry (or a Kubernetes Service) visible to this namespace; requests routed here get 503 NC.',
          ),
        );
        continue;
      }
      if (destination.subset === undefined || subsets.owners(service.host, destination.subset).length > 0) continue;
      out.push(
        finding(
          'ReferencedResourceNotFound',
          vs,
          `${field}.subset`,
          `no DestinationRule defines subset ${destination.subset} for ${service.host}`,
          `Define subset "${destination.subset}" in a DestinationRule for ${service.host}; requests routed here get 503 NC until then.`,
        ),
      );
    }
  }
  return out;
}
