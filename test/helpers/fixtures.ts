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

export const documents = (...docs: string[]): string => docs.join('---\n');
