import type { PortProtocol } from '../model/index.js';

// Istio's protocol selection for Kubernetes Service ports (pkg/config/protocol): appProtocol first, else the port
// name's prefix before the first "-" ("http", "http-api", "http2", "grpc-web", ...). ServiceEntry ports never use
// this: their protocol field is explicit.
const BY_PREFIX: Readonly<Record<string, PortProtocol>> = {
  http: 'HTTP',
  http2: 'HTTP2',
  grpc: 'GRPC',
  'grpc-web': 'GRPC-WEB',
  https: 'HTTPS',
  tls: 'TLS',
  tcp: 'TCP',
  mongo: 'MONGO',
  udp: 'UDP',
};

/**
 * The protocol of a Kubernetes-style port. Istio would sniff an unnamed port; tollgate has no sniffing yet, so
 * an unrecognised name means TCP (no HTTP route config for it).
 */
export function protocolFromPortName(name: string | undefined, appProtocol?: string): PortProtocol {
  if (appProtocol) {
    const p = BY_PREFIX[appProtocol.toLowerCase()];
    if (p) return p;
  }
  if (!name) return 'TCP';
  const lower = name.toLowerCase();
  if (lower.startsWith('grpc-web')) return 'GRPC-WEB';
  const prefix = lower.split('-')[0] ?? '';
  return BY_PREFIX[prefix] ?? 'TCP';
}

const HTTP_FAMILY: ReadonlySet<PortProtocol> = new Set(['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB']);

export function isHttpProtocol(p: PortProtocol): boolean {
  return HTTP_FAMILY.has(p);
}
