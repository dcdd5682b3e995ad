import type { AnyResource, Kind, Resource } from '../model/index.js';
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

/** Pure: the same input gives an equal snapshot. Resource order is kept (it stands for creation order). */
export function buildSnapshot(input: SnapshotInput): Snapshot {
  const byKind = groupByKind(input.resources);
  const mesh = buildMeshConfig(byKind.IstioOperator);
  const egressGateways = effectiveEgressGateways(byKind.IstioOperator, byKind.IstioGateway);
  const proxies = declareProxies(egressGateways, byKind.Deployment);
  const registry = buildRegistry({
    serviceEntries: byKind.ServiceEntry,
    services: byKind.Service,
    deployments: byKind.Deployment,
    gateways: egressGateways,
    instances: input.instances,
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
