import type { IstioGatewaySpec } from '../../model/index.js';
import { array, enumOf, object, optional, type Infer } from '../schema.js';
import { defineKind, labels } from './common.js';
import { gatewayServicePort, replicaFields, replicasOf, servicePorts } from './istio-operator.js';

// ASM's IstioGateway (istio.alibabacloud.com/v1beta1) has many deployment fields (resources, serviceType, ...).
// Only the ones that shape the gateway's identity, ports and replicas are typed.
export const istioGatewaySpec = object(
  {
    gatewayType: enumOf(['egress', 'ingress']),
    ports: optional(array(gatewayServicePort)),
    podLabels: optional(labels()),
    ...replicaFields,
  },
  { unknown: 'ignore' },
);

export type ExtIstioGateway = Infer<typeof istioGatewaySpec>;

export const istioGatewayCodec = defineKind({
  kind: 'IstioGateway',
  group: 'istio.alibabacloud.com',
  versions: ['v1beta1'],
  strict: false,
  spec: istioGatewaySpec,
  specRequired: true,
  normalize(ext, meta): IstioGatewaySpec {
    return {
      gatewayType: ext?.gatewayType ?? 'egress',
      gateway: {
        name: meta.name,
        namespace: meta.namespace,
        enabled: true,
        labels: { istio: meta.name, app: meta.name, ...(ext?.podLabels ?? {}) },
        ports: servicePorts(ext?.ports),
        replicas: replicasOf(ext),
      },
    };
  },
});
