import type { EgressGatewayDeclaration, KubeServicePort, Resource } from '../model/index.js';
import { CLUSTER_DOMAIN } from '../model/index.js';
import type { NodeIdentity } from '../proxy-config/types.js';
import { labelsMatch } from './labels.js';
import { protocolFromPortName } from './port-protocol.js';
import { ServiceRegistry } from './registry.js';
import type { RegistryEndpoint, RegistryPort, RegistryService } from './registry-types.js';

export interface RegistrySources {
  readonly serviceEntries: readonly Resource<'ServiceEntry'>[];
  readonly services: readonly Resource<'Service'>[];
  readonly deployments: readonly Resource<'Deployment'>[];
  readonly gateways: readonly EgressGatewayDeclaration[];
  readonly instances: readonly NodeIdentity[];
  /** What a service that names no exportTo is exported to (meshConfig.defaultServiceExportTo); absent: "*". */
  readonly defaultExportTo?: readonly string[];
}

export function kubeHost(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.${CLUSTER_DOMAIN}`;
}

/**
 * Precedence for one host within one namespace follows pilot's PushContext.initServiceRegistry: the first
 * declaration wins (resource order stands for creation order, oldest first) except that a Kubernetes Service
 * (here also a gateway's Service) takes the host over from a ServiceEntry, so a ServiceEntry cannot squat on a
 * cluster-local name. Declarations in different namespaces coexist; clients choose (ServiceRegistry.exact).
 * Two ServiceEntries for one host in one namespace are one service whose ports are the union (the first declaring
 * a port number keeps it), as pilot's SidecarScope merges them: `aliyun.com` on 80 in one ServiceEntry and on 443
 * in another is a service with both. Istio additionally merges their endpoints at EDS level; tollgate does not.
 */
export function buildRegistry(src: RegistrySources): ServiceRegistry {
  const chosen = new Map<string, RegistryService>();
  const defaultExportTo = src.defaultExportTo;
  const offer = (declared: RegistryService): void => {
    // The mesh's default applies to every service that names no exportTo, a gateway's own Service included.
    const s =
      declared.exportTo.length === 0 && defaultExportTo !== undefined
        ? { ...declared, exportTo: defaultExportTo }
        : declared;
    const key = `${s.namespace}/${s.host}`;
    const existing = chosen.get(key);
    if (!existing || (existing.origin === 'ServiceEntry' && s.origin !== 'ServiceEntry')) chosen.set(key, s);
    else if (existing.origin === 'ServiceEntry' && s.origin === 'ServiceEntry') {
      const added = s.ports.filter((p) => !existing.ports.some((e) => e.number === p.number));
      if (added.length > 0) chosen.set(key, { ...existing, ports: [...existing.ports, ...added] });
    }
  };
  for (const se of src.serviceEntries) for (const s of fromServiceEntry(se)) offer(s);
  for (const svc of src.services) offer(fromKubeService(svc, src.deployments, src.instances));
  for (const g of src.gateways) offer(fromGateway(g, src.instances));
  return new ServiceRegistry([...chosen.values()]);
}

function fromServiceEntry(se: Resource<'ServiceEntry'>): RegistryService[] {
  const ports: RegistryPort[] = se.spec.ports.map((p) => ({
    number: p.number,
    name: p.name,
    protocol: p.protocol,
    ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}),
  }));
  const endpoints: RegistryEndpoint[] = se.spec.endpoints.map((e) => ({
    address: e.address,
    ports: e.ports,
    labels: e.labels,
    ...(e.weight !== undefined ? { weight: e.weight } : {}),
  }));
  return se.spec.hosts.map((host) => ({
    host,
    namespace: se.meta.namespace,
    origin: 'ServiceEntry',
    declaredBy: { kind: 'ServiceEntry', namespace: se.meta.namespace, name: se.meta.name },
    ports,
    addresses: se.spec.addresses,
    resolution: se.spec.resolution,
    endpoints,
    exportTo: se.spec.exportTo,
    location: se.spec.location,
    subjectAltNames: se.spec.subjectAltNames,
  }));
}

function exportToAnnotation(annotations: Readonly<Record<string, string>>): string[] {
  const raw = annotations['networking.istio.io/exportTo'];
  if (!raw) return [];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function containerPort(deployment: Resource<'Deployment'> | undefined, name: string): number | undefined {
  if (!deployment) return undefined;
  for (const c of deployment.spec.containers) for (const p of c.ports) if (p.name === name) return p.containerPort;
  return undefined;
}

function resolveTargetPort(p: KubeServicePort, deployment: Resource<'Deployment'> | undefined): number | undefined {
  return typeof p.targetPort === 'number' ? p.targetPort : containerPort(deployment, p.targetPort);
}

/** Whether a Kubernetes Service selects the instance as an endpoint: its namespace, and a selector it matches. */
function selects(svc: Resource<'Service'>, inst: NodeIdentity): boolean {
  const selector = svc.spec.selector;
  return (
    inst.namespace === svc.meta.namespace && Object.keys(selector).length > 0 && labelsMatch(selector, inst.labels)
  );
}

/**
 * The instances a snapshot depends on: every gateway proxy (an endpoint of its gateway's Service, and what the
 * gateway analysis reads) and each sidecar that some Service selects. A sidecar no Service selects is an endpoint
 * of nothing, so its coming and going changes no proxy's config.
 */
export function instancesInUse(
  services: readonly Resource<'Service'>[],
  instances: readonly NodeIdentity[],
): NodeIdentity[] {
  const byNamespace = new Map<string, Resource<'Service'>[]>();
  for (const svc of services) {
    const list = byNamespace.get(svc.meta.namespace);
    if (list) list.push(svc);
    else byNamespace.set(svc.meta.namespace, [svc]);
  }
  return instances.filter(
    (inst) => inst.type === 'router' || (byNamespace.get(inst.namespace) ?? []).some((svc) => selects(svc, inst)),
  );
}

function fromKubeService(
  svc: Resource<'Service'>,
  deployments: readonly Resource<'Deployment'>[],
  instances: readonly NodeIdentity[],
): RegistryService {
  const ns = svc.meta.namespace;
  const selector = svc.spec.selector;
  const hasSelector = Object.keys(selector).length > 0;
  const selected = deployments.filter(
    (d) => d.meta.namespace === ns && hasSelector && labelsMatch(selector, d.spec.podLabels),
  );
  const ports: RegistryPort[] = svc.spec.ports.map((p) => {
    const target = resolveTargetPort(p, selected[0]);
    return {
      number: p.port,
      name: p.name ?? '',
      protocol: protocolFromPortName(p.name, p.appProtocol),
      ...(target !== undefined ? { targetPort: target } : {}),
    };
  });
  const endpoints: RegistryEndpoint[] = [];
  if (hasSelector) {
    for (const inst of instances) {
      if (!selects(svc, inst)) continue;
      const deployment = deployments.find((d) => d.meta.namespace === ns && d.meta.name === inst.name) ?? selected[0];
      const endpointPorts: Record<string, number> = {};
      for (const p of svc.spec.ports) endpointPorts[p.name ?? ''] = resolveTargetPort(p, deployment) ?? p.port;
      endpoints.push({
        address: inst.ip,
        ports: endpointPorts,
        labels: inst.labels,
        serviceAccount: inst.serviceAccount,
        namespace: inst.namespace,
      });
    }
  }
  return {
    host: kubeHost(svc.meta.name, ns),
    namespace: ns,
    origin: 'KubernetesService',
    declaredBy: { kind: 'Service', namespace: ns, name: svc.meta.name },
    ports,
    addresses: [],
    resolution: 'STATIC',
    endpoints: sortEndpoints(endpoints),
    exportTo: exportToAnnotation(svc.meta.annotations),
    location: 'MESH_INTERNAL',
    subjectAltNames: [],
    shortName: svc.meta.name,
  };
}

function fromGateway(g: EgressGatewayDeclaration, instances: readonly NodeIdentity[]): RegistryService {
  const ports: RegistryPort[] = g.ports.map((p) => ({
    number: p.port,
    name: p.name,
    protocol: protocolFromPortName(p.name),
    targetPort: p.targetPort,
  }));
  const endpointPorts = Object.fromEntries(g.ports.map((p) => [p.name, p.targetPort]));
  const endpoints: RegistryEndpoint[] = instances
    .filter((i) => i.type === 'router' && i.namespace === g.namespace && labelsMatch(g.labels, i.labels))
    .map((i) => ({
      address: i.ip,
      ports: endpointPorts,
      labels: i.labels,
      serviceAccount: i.serviceAccount,
      namespace: i.namespace,
    }));
  return {
    host: kubeHost(g.name, g.namespace),
    namespace: g.namespace,
    origin: 'EgressGateway',
    ports,
    addresses: [],
    resolution: 'STATIC',
    endpoints: sortEndpoints(endpoints),
    exportTo: [],
    location: 'MESH_INTERNAL',
    subjectAltNames: [],
    shortName: g.name,
  };
}

function sortEndpoints(eps: RegistryEndpoint[]): RegistryEndpoint[] {
  return eps.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}
