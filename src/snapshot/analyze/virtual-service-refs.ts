import type { Diagnostic } from '../../model/index.js';
import type { RegistryService } from '../registry-types.js';
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
/** Who declares a service, for messages: "ServiceEntry shared/site", "the egress gateway istio-system/...". */
function describe(s: RegistryService): string {
  if (s.declaredBy) return `${s.declaredBy.kind} ${s.declaredBy.namespace}/${s.declaredBy.name}`;
  return `${s.origin === 'EgressGateway' ? "the egress gateway's Service" : 'Service'} ${s.namespace}/${s.shortName ?? s.host}`;
}

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
      const hidden = service ? [] : snapshot.registry.hiddenFrom(destination.host, ns);
      if (hidden.length > 0) {
        const where = hidden.map((s) => `${describe(s)} (exportTo ${JSON.stringify(s.exportTo)})`).join(', ');
        out.push(
          finding(
            'ReferencedResourceNotFound',
            vs,
            `${field}.host`,
            `destination host ${destination.host} is not exported to namespace ${ns}: ${where}`,
            hidden.every((s) => s.origin === 'EgressGateway')
              ? `Add ${ns} to meshConfig.defaultServiceExportTo (the egress gateway's Service has no exportTo of its own); requests routed here get 503 NC.`
              : `Export it to ${ns} (its exportTo, or meshConfig.defaultServiceExportTo for resources without one), or declare the host in ${ns}; requests routed here get 503 NC.`,
          ),
        );
        continue;
      }
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
