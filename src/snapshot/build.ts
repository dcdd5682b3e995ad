import type { AnyResource, Kind, MeshConfig, Resource } from '../model/index.js';
import { KINDS } from '../model/index.js';
import { DestinationRuleIndex } from './destination-rules.js';
import { deepFreeze } from './freeze.js';
import { buildMeshConfig, effectiveEgressGateways } from './mesh.js';
import { declareProxies } from './proxies.js';
import { buildRegistry } from './registry-build.js';
import { SidecarIndex } from './sidecars.js';
import type { Snapshot, SnapshotInput } from './types.js';
import { VirtualServiceIndex } from './virtual-services.js';

/** Object.freeze for the index classes, keeping their nominal type. */
function sealed<T extends object>(index: T): T {
  Object.freeze(index);
  return index;
}

type ByKind = { [K in Kind]: Resource<K>[] };

function groupByKind(resources: readonly AnyResource[]): ByKind {
  const out = Object.fromEntries(KINDS.map((k) => [k, []])) as unknown as ByKind;
  for (const r of resources) (out[r.kind] as AnyResource[]).push(r);
  return out;
}

/**
 * VirtualServices and DestinationRules that name no exportTo take the mesh's default for their kind
 * (meshConfig.defaultVirtualServiceExportTo, defaultDestinationRuleExportTo), as pilot's PushContext reads them:
 * everything downstream then sees one effective exportTo. Services take theirs in the registry.
 */
function withExportDefaults(byKind: ByKind, mesh: MeshConfig): ByKind {
  const withDefault = <K extends 'VirtualService' | 'DestinationRule'>(
    list: Resource<K>[],
    exportTo: readonly string[],
  ): Resource<K>[] => {
    if (exportTo.length === 1 && exportTo[0] === '*') return list;
    return list.map((r) => (r.spec.exportTo.length > 0 ? r : { ...r, spec: { ...r.spec, exportTo } }));
  };
  return {
    ...byKind,
    VirtualService: withDefault(byKind.VirtualService, mesh.defaultVirtualServiceExportTo),
    DestinationRule: withDefault(byKind.DestinationRule, mesh.defaultDestinationRuleExportTo),
  };
}

/** Pure: the same input gives an equal snapshot. Resource order is kept (it stands for creation order). */
export function buildSnapshot(input: SnapshotInput): Snapshot {
  const declared = groupByKind(input.resources);
  const mesh = buildMeshConfig(declared.IstioOperator);
  const byKind = withExportDefaults(declared, mesh);
  const egressGateways = effectiveEgressGateways(byKind.IstioOperator, byKind.IstioGateway);
  const proxies = declareProxies(egressGateways, byKind.Deployment);
  const registry = buildRegistry({
    serviceEntries: byKind.ServiceEntry,
    services: byKind.Service,
    deployments: byKind.Deployment,
    gateways: egressGateways,
    instances: input.instances,
    defaultExportTo: mesh.defaultServiceExportTo,
  });
  const snapshot: Snapshot = {
    version: input.version,
    mesh,
    resources: [...input.resources],
    byKind,
    egressGateways,
    proxies,
    instances: [...input.instances],
    registry: sealed(registry),
    destinationRules: sealed(new DestinationRuleIndex(byKind.DestinationRule, mesh.rootNamespace)),
    virtualServices: sealed(new VirtualServiceIndex(byKind.VirtualService)),
    sidecars: sealed(new SidecarIndex(byKind.Sidecar, mesh.rootNamespace)),
    secrets: input.secrets ?? new Map(),
  };
  return deepFreeze(snapshot);
}
