import type { IstioEgressListener, OutboundTrafficPolicyMode, Resource } from '../model/index.js';
import type { NodeIdentity } from '../proxy-config/types.js';
import type { RegistryService, Snapshot } from '../snapshot/index.js';
import { isExportedTo, MESH_GATEWAY, sidecarImports } from '../snapshot/index.js';

/** What one egress listener of a Sidecar imports. `port` undefined: the catch-all listener (every other port). */
export interface EgressScope {
  readonly port?: number;
  readonly services: readonly RegistryService[];
  readonly virtualServices: readonly Resource<'VirtualService'>[];
  readonly virtualServiceSet: ReadonlySet<Resource<'VirtualService'>>;
}

/** What one sidecar sees: its outbound mode, and per egress listener the services and mesh VirtualServices. */
export interface SidecarScope {
  readonly mode: OutboundTrafficPolicyMode;
  /** Every service any egress listener imports: the sidecar's clusters. */
  readonly services: readonly RegistryService[];
  readonly egress: readonly EgressScope[];
  /** The ports a port-specific egress listener claims; the catch-all listener serves the rest. */
  readonly claimedPorts: ReadonlySet<number>;
}

/**
 * Istio's SidecarScope: each egress listener imports its own hosts. A listener with a port serves only that port
 * (pilot GetEgressListenerForRDS picks it for route config "<port>"), the port-less one every other port; no
 * Sidecar (or no egress) is one catch-all listener importing everything. `bind` and `captureMode` change which
 * address the listener would bind, which a capture-all outbound listener has no use for: they are ignored.
 */
export function sidecarScope(node: NodeIdentity, snapshot: Snapshot): SidecarScope {
  const sidecar = snapshot.sidecars.forWorkload(node.namespace, node.labels);
  const mode = sidecar?.spec.outboundTrafficPolicy?.mode ?? snapshot.mesh.outboundTrafficPolicy;
  const visible = snapshot.registry.visibleTo(node.namespace);
  const meshVs = snapshot.virtualServices
    .forGateway(MESH_GATEWAY)
    .filter((vs) => isExportedTo(vs.spec.exportTo, vs.meta.namespace, node.namespace));
  const listeners: (IstioEgressListener | undefined)[] =
    sidecar && sidecar.spec.egress.length > 0 ? [...sidecar.spec.egress] : [undefined];
  const egress: EgressScope[] = [];
  const claimedPorts = new Set<number>();
  const seenPortless = { done: false };
  for (const l of listeners) {
    const port = l?.port?.number;
    // Istio rejects duplicates; the first listener for a port (or the first port-less one) wins here.
    if (port !== undefined ? claimedPorts.has(port) : seenPortless.done) continue;
    if (port !== undefined) claimedPorts.add(port);
    else seenPortless.done = true;
    const only = sidecar && l ? { ...sidecar, spec: { ...sidecar.spec, egress: [l] } } : undefined;
    const services = visible.filter((s) => sidecarImports(only, s.namespace, s.host));
    const virtualServices = meshVs.filter((vs) =>
      vs.spec.hosts.some((h) => sidecarImports(only, vs.meta.namespace, h)),
    );
    egress.push({
      ...(port !== undefined ? { port } : {}),
      services,
      virtualServices,
      virtualServiceSet: new Set(virtualServices),
    });
  }
  const all = new Set<RegistryService>();
  for (const e of egress) for (const s of e.services) all.add(s);
  return { mode, services: [...all], egress, claimedPorts };
}
