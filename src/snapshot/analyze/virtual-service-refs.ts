import type { Diagnostic } from '../../model/index.js';
import type { Snapshot } from '../types.js';
import { MESH_GATEWAY } from '../virtual-services.js';
import { finding } from './codes.js';
import { destinationsOf } from './destinations.js';

/** IST0101 for gateways, destination hosts and subsets a VirtualService names but nothing declares. */
export function analyzeVirtualServiceRefs(snapshot: Snapshot): Diagnostic[] {
  const out: Diagnostic[] = [];
  const gateways = new Set(snapshot.byKind.Gateway.map((g) => `${g.meta.namespace}/${g.meta.name}`));
  for (const vs of snapshot.byKind.VirtualService) {
    const checkGateway = (gw: string, field: string): void => {
      if (gw === MESH_GATEWAY || gateways.has(gw)) return;
      out.push(
        finding('ReferencedResourceNotFound', vs, field, `Referenced gateway not found: "${gw}"`,
          `Create Gateway ${gw}, or fix the reference ("namespace/name"; a bare name means the VirtualService's namespace).`),
      );
    };
    vs.spec.gateways.forEach((gw, i) => checkGateway(gw, `spec.gateways[${i}]`));
    vs.spec.http.forEach((h, i) =>
      h.match.forEach((m, j) => m.gateways.forEach((gw, k) => checkGateway(gw, `spec.http[${i}].match[${j}].gateways[${k}]`))),
    );

    for (const { destination, field } of destinationsOf(vs)) {
      const ns = vs.meta.namespace;
      const service = snapshot.registry.resolve(destination.host, ns) ?? snapshot.registry.lookup(destination.host, ns);
      if (!service) {
        out.push(
          finding('ReferencedResourceNotFound', vs, `${field}.host`, `Referenced host not found: "${destination.host}"`,
            'Declare the host with a ServiceEntry (or a Kubernetes Service) visible to this namespace; requests routed here get 503 NC.'),
        );
        continue;
      }
      if (destination.subset === undefined) continue;
      const dr = snapshot.destinationRules.lookup(service.host, service.namespace, { namespace: ns, labels: {} });
      if (dr?.subsets.some((s) => s.name === destination.subset)) continue;
      const elsewhere = snapshot.byKind.DestinationRule.find(
        (d) => d.spec.host === service.host && d.spec.subsets.some((s) => s.name === destination.subset),
      );
      const hint = elsewhere
        ? `DestinationRule ${elsewhere.meta.namespace}/${elsewhere.meta.name} defines it but is not on the lookup path from namespace ${ns} (own namespace, then ${service.namespace}, then ${snapshot.mesh.rootNamespace}); clients get 503 NC.`
        : `Define subset "${destination.subset}" in a DestinationRule for ${service.host}; clients get 503 NC until then.`;
      out.push(
        finding('ReferencedResourceNotFound', vs, `${field}.subset`,
          `Referenced subset not found: "${destination.subset}" of host ${service.host}`, hint),
      );
    }
  }
  return out;
}
