import type { Kind } from '../../model/index.js';
import type { KindCodec } from './common.js';
import { destinationRuleCodec } from './destination-rule.js';
import { gatewayCodec } from './gateway.js';
import { istioGatewayCodec } from './istio-gateway.js';
import { istioOperatorCodec } from './istio-operator.js';
import { deploymentCodec, kubeServiceCodec, serviceAccountCodec } from './kubernetes.js';
import { serviceEntryCodec } from './service-entry.js';
import { sidecarCodec } from './sidecar.js';
import { virtualServiceCodec } from './virtual-service.js';

/** Every kind tollgate reads; a Record so that adding a Kind to the model fails to compile until it has a codec. */
// biome-ignore lint/suspicious/noExplicitAny: each codec's external shape differs; the Record only pins the kinds
export const CODECS: { readonly [K in Kind]: KindCodec<K, any> } = {
  ServiceEntry: serviceEntryCodec,
  Gateway: gatewayCodec,
  VirtualService: virtualServiceCodec,
  DestinationRule: destinationRuleCodec,
  Sidecar: sidecarCodec,
  IstioOperator: istioOperatorCodec,
  IstioGateway: istioGatewayCodec,
  ServiceAccount: serviceAccountCodec,
  Service: kubeServiceCodec,
  Deployment: deploymentCodec,
};

/** API groups tollgate reads; a document in one of these with an unknown kind/version is an error, not a skip. */
export const KNOWN_GROUPS: ReadonlySet<string> = new Set(Object.values(CODECS).map((c) => c.group));

export type { KindCodec } from './common.js';
export { DEFAULT_EGRESS_LABELS, DEFAULT_EGRESS_PORTS } from './istio-operator.js';
