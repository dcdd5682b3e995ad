// Generated names, by formula only (Istio's wire names; see the naming table of the egress semantics reference).

export const VIRTUAL_OUTBOUND_LISTENER = 'virtualOutbound';
export const ALLOW_ANY = 'allow_any';
export const BLOCK_ALL = 'block_all';
export const DEFAULT_ROUTE = 'default';
export const PASSTHROUGH_FILTER_CHAIN = 'PassthroughFilterChain';

/** "outbound|80||aliyun.com", "outbound|80|v1|reviews.default.svc.cluster.local". */
export function outboundClusterName(port: number, subset: string | undefined, host: string): string {
  return `outbound|${port}|${subset ?? ''}|${host}`;
}

/** Istio's default SNI for ISTIO_MUTUAL: "outbound_.80_.cnn_.istio-egressgateway.istio-system.svc.cluster.local". */
export function istioMutualSni(port: number, subset: string | undefined, host: string): string {
  return `outbound_.${port}_.${subset ?? ''}_.${host}`;
}

export function parseOutboundClusterName(name: string): { port: number; subset?: string; host: string } | undefined {
  const parts = name.split('|');
  if (parts.length !== 4 || parts[0] !== 'outbound') return undefined;
  const port = Number(parts[1]);
  if (!Number.isInteger(port)) return undefined;
  return { port, ...(parts[2] ? { subset: parts[2] } : {}), host: parts[3] ?? '' };
}

export function virtualHostName(host: string, port: number): string {
  return `${host}:${port}`;
}

export function sidecarRouteConfigName(port: number): string {
  return String(port);
}

export function gatewayRouteConfigName(servicePort: number): string {
  return `http.${servicePort}`;
}

export function gatewayListenerName(boundPort: number): string {
  return `0.0.0.0_${boundPort}`;
}

/** Istio's gatewayRDSRouteName for a terminating HTTPS server: "https.443.https-port.my-gateway.istio-system". */
export function gatewayHttpsRouteConfigName(
  servicePort: number,
  portName: string,
  gatewayName: string,
  gatewayNamespace: string,
): string {
  return `https.${servicePort}.${portName}.${gatewayName}.${gatewayNamespace}`;
}

export function blackholeVirtualHostName(servicePort: number): string {
  return `blackhole:${servicePort}`;
}

/** Istio's route name: "<http.name>", "<http.name>.<match.name>", or "" for an unnamed rule. */
export function vsRouteName(httpName: string | undefined, matchName: string | undefined): string {
  const base = httpName ?? '';
  return matchName ? `${base}.${matchName}` : base;
}
