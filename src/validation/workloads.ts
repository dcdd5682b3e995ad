import type { EgressGatewayDeclaration, Resource } from '../model/index.js';
import type { Findings } from './findings.js';
import { checkExportTo, checkPort } from './names.js';

function checkGatewayPorts(f: Findings, field: string, g: EgressGatewayDeclaration): void {
  g.ports.forEach((p, i) => {
    checkPort(f, `${field}[${i}].port`, p.port);
    checkPort(f, `${field}[${i}].targetPort`, p.targetPort);
  });
}

/** The mesh-wide exportTo defaults, checked as a resource's own exportTo is ("~", no one, allowed for each). */
const EXPORT_DEFAULTS = [
  'defaultServiceExportTo',
  'defaultVirtualServiceExportTo',
  'defaultDestinationRuleExportTo',
] as const;

export function validateIstioOperator(r: Resource<'IstioOperator'>, f: Findings): void {
  const timeout = r.spec.meshConfig.connectTimeoutMs;
  if (timeout !== undefined && timeout < 1)
    f.add('InvalidDuration', 'spec.meshConfig.connectTimeout', 'duration must be at least 1ms', 'Istio default: 10s');
  for (const key of EXPORT_DEFAULTS) {
    const list = r.spec.meshConfig[key];
    if (list !== undefined) checkExportTo(f, undefined, list, true, `spec.meshConfig.${key}`);
  }
  const seen = new Set<string>();
  r.spec.egressGateways.forEach((g, i) => {
    const field = `spec.components.egressGateways[${i}]`;
    const key = `${g.namespace}/${g.name}`;
    if (seen.has(key))
      f.add(
        'DuplicateEgressGateway',
        `${field}.name`,
        `egress gateway ${key} is declared twice`,
        'give each egress gateway a distinct name',
      );
    seen.add(key);
    checkGatewayPorts(f, `${field}.k8s.service.ports`, g);
  });
}

export function validateIstioGateway(r: Resource<'IstioGateway'>, f: Findings): void {
  checkGatewayPorts(f, 'spec.ports', r.spec.gateway);
}

export function validateKubeService(r: Resource<'Service'>, f: Findings): void {
  r.spec.ports.forEach((p, i) => {
    checkPort(f, `spec.ports[${i}].port`, p.port);
    if (typeof p.targetPort === 'number') checkPort(f, `spec.ports[${i}].targetPort`, p.targetPort);
  });
}

/** The Kubernetes API server's own Deployment checks that matter locally (apps/validation). */
export function validateDeployment(r: Resource<'Deployment'>, f: Findings): void {
  const s = r.spec;
  if (s.replicas < 0) f.add('InvalidReplicas', 'spec.replicas', `replicas must be non-negative, got ${s.replicas}`);
  const mismatched = Object.entries(s.selector).filter(([k, v]) => s.podLabels[k] !== v);
  if (Object.keys(s.selector).length === 0) {
    f.add(
      'SelectorMismatch',
      'spec.selector',
      'spec.selector.matchLabels is empty',
      'select the pod template labels, e.g. matchLabels: {app: sleep}',
    );
  } else if (mismatched.length > 0) {
    f.add(
      'SelectorMismatch',
      'spec.selector',
      `selector does not match template labels: ${mismatched.map(([k, v]) => `${k}=${v}`).join(', ')}`,
      'make spec.template.metadata.labels contain every spec.selector.matchLabels entry',
    );
  }
  if (s.containers.length === 0)
    f.add('NoContainers', 'spec.template.spec.containers', 'a Deployment needs at least one container');
  s.containers.forEach((c, i) =>
    c.ports.forEach((p, j) =>
      checkPort(f, `spec.template.spec.containers[${i}].ports[${j}].containerPort`, p.containerPort),
    ),
  );
}
