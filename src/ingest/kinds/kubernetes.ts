import type { DeploymentSpec, KubeServiceSpec, ServiceAccountSpec } from '../../model/index.js';
import { array, enumOf, int, object, optional, string, union, type Infer } from '../schema.js';
import { compact, defineKind, labels } from './common.js';

// Kubernetes objects carry many fields tollgate does not use (resources, env, volumes, probes, ...): they are
// accepted silently (`unknown: 'ignore'`), and only the fields the local mesh needs are typed.
const loose = { unknown: 'ignore' } as const;

const kubeProtocol = () => enumOf(['TCP', 'UDP', 'SCTP']);

const servicePort = object(
  {
    name: optional(string()),
    port: int(),
    targetPort: optional(union([int(), string()])),
    protocol: optional(kubeProtocol()),
    appProtocol: optional(string()),
  },
  loose,
);

export const kubeServiceSpec = object({ selector: optional(labels()), ports: optional(array(servicePort)) }, loose);

const container = object(
  {
    name: string(),
    image: optional(string()),
    ports: optional(
      array(object({ name: optional(string()), containerPort: int(), protocol: optional(kubeProtocol()) }, loose)),
    ),
  },
  loose,
);

export const deploymentSpec = object(
  {
    replicas: optional(int()),
    selector: object({ matchLabels: optional(labels()) }, loose),
    template: object(
      {
        metadata: optional(object({ labels: optional(labels()) }, loose)),
        spec: object(
          {
            serviceAccountName: optional(string()),
            // Deprecated alias of serviceAccountName, still honoured by Kubernetes.
            serviceAccount: optional(string()),
            containers: array(container),
          },
          loose,
        ),
      },
      loose,
    ),
  },
  loose,
);

export type ExtKubeService = Infer<typeof kubeServiceSpec>;
export type ExtDeployment = Infer<typeof deploymentSpec>;

export const serviceAccountCodec = defineKind({
  kind: 'ServiceAccount',
  group: '',
  versions: ['v1'],
  strict: false,
  specRequired: false,
  normalize(): ServiceAccountSpec {
    return {};
  },
});

export const kubeServiceCodec = defineKind({
  kind: 'Service',
  group: '',
  versions: ['v1'],
  strict: false,
  spec: kubeServiceSpec,
  specRequired: true,
  normalize(ext): KubeServiceSpec {
    return {
      selector: ext?.selector ?? {},
      ports: (ext?.ports ?? []).map((p) =>
        compact({
          name: p.name,
          port: p.port,
          targetPort: p.targetPort ?? p.port,
          protocol: p.protocol ?? 'TCP',
          appProtocol: p.appProtocol,
        }),
      ),
    };
  },
});

export const deploymentCodec = defineKind({
  kind: 'Deployment',
  group: 'apps',
  versions: ['v1'],
  strict: false,
  spec: deploymentSpec,
  specRequired: true,
  normalize(ext): DeploymentSpec {
    const pod = ext?.template.spec;
    return {
      replicas: ext?.replicas ?? 1,
      selector: ext?.selector.matchLabels ?? {},
      podLabels: ext?.template.metadata?.labels ?? {},
      serviceAccountName: pod?.serviceAccountName ?? pod?.serviceAccount ?? 'default',
      containers: (pod?.containers ?? []).map((c) =>
        compact({
          name: c.name,
          image: c.image,
          ports: (c.ports ?? []).map((p) =>
            compact({ name: p.name, containerPort: p.containerPort, protocol: p.protocol ?? 'TCP' }),
          ),
        }),
      ),
    };
  },
});
