import type { Diagnostic } from '../../model/index.js';
import { serverHostIntersection } from '../gateway-hosts.js';
import type { Snapshot } from '../types.js';
import { MESH_GATEWAY } from '../virtual-services.js';
import { finding } from './codes.js';

/**
 * How VirtualServices bind: IST0132 when a bound Gateway has no server host in common with the VirtualService
 * (the gateway then answers 404 NR), TG1001 when a VirtualService is bound to gateways only and no mesh-bound
 * VirtualService covers its hosts, so sidecars send the traffic directly instead of to the gateway.
 */
export function analyzeBindings(snapshot: Snapshot): Diagnostic[] {
  const out: Diagnostic[] = [];
  const gateways = new Map(snapshot.byKind.Gateway.map((g) => [`${g.meta.namespace}/${g.meta.name}`, g]));
  for (const vs of snapshot.byKind.VirtualService) {
    vs.spec.gateways.forEach((ref, i) => {
      const gw = gateways.get(ref);
      if (!gw) return;
      const bound = vs.spec.hosts.some((h) =>
        gw.spec.servers.some((s) =>
          s.hosts.some((sh) => serverHostIntersection(sh, gw.meta.namespace, vs.meta.namespace, h)),
        ),
      );
      if (!bound) {
        out.push(
          finding(
            'VirtualServiceHostNotFoundInGateway',
            vs,
            `spec.gateways[${i}]`,
            `VirtualService ${vs.meta.namespace}/${vs.meta.name} is bound to Gateway ${ref}, but none of its hosts [${vs.spec.hosts.join(', ')}] is served by that Gateway: nothing of it applies there.`,
            `Add the host to a server of Gateway ${ref} (mind "namespace/" scoping), or fix the VirtualService hosts.`,
          ),
        );
      }
    });
    const gatewayRefs = vs.spec.gateways.filter((g) => g !== MESH_GATEWAY);
    if (gatewayRefs.length === 0 || vs.spec.gateways.includes(MESH_GATEWAY)) continue;
    const meshCovered = vs.spec.hosts.some((h) => snapshot.virtualServices.meshForHost(h).length > 0);
    if (meshCovered) continue;
    out.push(
      finding(
        'VirtualServiceNotBoundToMesh',
        vs,
        'spec.gateways',
        `VirtualService is bound to gateway ${gatewayRefs.join(', ')} but not to mesh: sidecars will not send traffic for [${vs.spec.hosts.join(', ')}] to the gateway.`,
        'Add "mesh" to spec.gateways with a rule (match gateways: [mesh]) routing to the egress gateway Service.',
      ),
    );
  }
  return out;
}
