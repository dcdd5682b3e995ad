// YAML the end-to-end tests share: the sleep client, the REGISTRY_ONLY switch, an HTTP ServiceEntry, a Gateway.
export const SLEEP_DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: sleep}
spec:
  selector: {matchLabels: {app: sleep}}
  template:
    metadata: {labels: {app: sleep}}
    spec:
      serviceAccountName: sleep
      containers: [{name: sleep, image: curlimages/curl}]
`;

export const REGISTRY_ONLY = `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: mesh, namespace: istio-system}
spec:
  meshConfig:
    outboundTrafficPolicy: {mode: REGISTRY_ONLY}
`;

export function httpServiceEntry(name: string, host: string, port: number, resolution = 'DNS'): string {
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}}
spec:
  hosts: [${host}]
  ports: [{number: ${port}, name: http, protocol: HTTP}]
  resolution: ${resolution}
`;
}

/** A Gateway named `name` on Istio's default egress gateway, HTTP port 80, for `hosts`. */
export function egressGateway(name: string, hosts: readonly string[]): string {
  return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ${name}}
spec:
  selector: {istio: egressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [${hosts.join(', ')}]
`;
}

/**
 * A VirtualService `name` that sends `host` (requested on `meshPort`) to Istio's default egress gateway from the
 * mesh, and from the Gateway `gateway` on to `host`:`meshPort`: the egress task's two rules.
 */
export function viaEgressGateway(name: string, gateway: string, host: string, meshPort: number): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}}
spec:
  hosts: [${host}]
  gateways: [${gateway}, mesh]
  http:
  - match: [{gateways: [mesh], port: ${meshPort}}]
    route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, port: {number: 80}}}]
  - match: [{gateways: [${gateway}], port: 80}]
    route: [{destination: {host: ${host}, port: {number: ${meshPort}}}}]
`;
}

export const documents = (...docs: string[]): string => docs.join('---\n');
