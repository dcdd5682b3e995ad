import type { OutboundTrafficPolicyMode, Resource } from '../model/index.js';
import type { NodeIdentity } from '../proxy-config/types.js';
import type { RegistryService, Snapshot } from '../snapshot/index.js';
import { isExportedTo, MESH_GATEWAY, sidecarImports } from '../snapshot/index.js';

/** What one sidecar sees: its outbound mode, the services and mesh VirtualServices imported into its scope. */
export interface SidecarScope {
  readonly mode: OutboundTrafficPolicyMode;
  readonly services: readonly RegistryService[];
  readonly virtualServices: readonly Resource<'VirtualService'>[];
  readonly virtualServiceSet: ReadonlySet<Resource<'VirtualService'>>;
}

export function sidecarScope(node: NodeIdentity, snapshot: Snapshot): SidecarScope {
  const sidecar = snapshot.sidecars.forWorkload(node.namespace, node.labels);
  const mode = sidecar?.spec.outboundTrafficPolicy?.mode ?? snapshot.mesh.outboundTrafficPolicy;
  const services = snapshot.registry
    .visibleTo(node.namespace)
    .filter((s) => sidecarImports(sidecar, s.namespace, s.host));
  const virtualServices = snapshot.virtualServices
    .forGateway(MESH_GATEWAY)
    .filter(
      (vs) =>
        isExportedTo(vs.spec.exportTo, vs.meta.namespace, node.namespace) &&
        vs.spec.hosts.some((h) => sidecarImports(sidecar, vs.meta.namespace, h)),
    );
  return { mode, services, virtualServices, virtualServiceSet: new Set(virtualServices) };
}
