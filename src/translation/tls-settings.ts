// Istio's TLS settings rendered into the proxy config: a Gateway server's (what the gateway terminates with) and a
// DestinationRule's (what a proxy originates with). Certificates named by file stay file paths, read by the proxy
// on its own host; a credentialName is looked up in the snapshot's secrets and carried as PEM text, as istiod's SDS
// hands the gateway the Kubernetes secret.
import type { ClientTLSSettings, ServerTLSSettings } from '../model/index.js';
import type { DownstreamTls, PemSource, UpstreamTls } from '../proxy-config/types.js';
import { credential, type Snapshot } from '../snapshot/index.js';

/** The files tollgate looks for in a credential's folder, Kubernetes' TLS secret keys first, then generic ones. */
export const SECRET_FILES = {
  certificateChain: ['tls.crt', 'cert'],
  privateKey: ['tls.key', 'key'],
  trustedCa: ['ca.crt', 'cacert'],
} as const;

function missing(namespace: string, name: string): string {
  return `credentialName ${name}: no secret ${namespace}/${name} (expected in the config directory at secrets/${namespace}/${name}/)`;
}

const pem = (text: string | undefined): PemSource | undefined => (text === undefined ? undefined : { pem: text });
const file = (path: string | undefined): PemSource | undefined => (path === undefined ? undefined : { file: path });

const VERSION: Readonly<Record<string, 'TLSv1.2' | 'TLSv1.3'>> = { TLSV1_2: 'TLSv1.2', TLSV1_3: 'TLSv1.3' };

/**
 * The TLS a Gateway server terminates with. Its credential is looked up where the gateway workload runs (the
 * proxy's namespace), as Istio's gateway reads secrets from its own namespace, not the Gateway resource's.
 */
export function serverTls(t: ServerTLSSettings, proxyNamespace: string, snapshot: Snapshot): DownstreamTls {
  const mode = t.mode === 'PASSTHROUGH' || t.mode === 'AUTO_PASSTHROUGH' ? 'SIMPLE' : t.mode;
  const versions = {
    ...(t.minProtocolVersion && VERSION[t.minProtocolVersion]
      ? { minProtocolVersion: VERSION[t.minProtocolVersion] }
      : {}),
    ...(t.maxProtocolVersion && VERSION[t.maxProtocolVersion]
      ? { maxProtocolVersion: VERSION[t.maxProtocolVersion] }
      : {}),
  };
  const base = { mode, subjectAltNames: t.subjectAltNames, ...versions } as const;
  if (mode === 'ISTIO_MUTUAL') return base;
  return {
    ...base,
    ...certificates(snapshot, proxyNamespace, t.credentialName, {
      certificateChain: t.serverCertificate,
      privateKey: t.privateKey,
      trustedCa: t.caCertificates,
    }),
  };
}

/**
 * The TLS a proxy originates to a cluster. Without `sni` the request's host is sent (Envoy's auto SNI, which Istio
 * turns on), and without subjectAltNames the certificate must match that name. A credentialName is looked up in
 * the proxy's own namespace: Istio honours it at gateways, whose secrets live beside them.
 */
export function clientTls(
  t: ClientTLSSettings,
  proxyNamespace: string,
  serviceSans: readonly string[],
  snapshot: Snapshot,
): UpstreamTls | undefined {
  if (t.mode === 'DISABLE') return undefined;
  const base = {
    mode: t.mode,
    ...(t.sni !== undefined ? { sni: t.sni } : {}),
    subjectAltNames: t.subjectAltNames.length > 0 ? t.subjectAltNames : serviceSans,
    insecureSkipVerify: t.insecureSkipVerify,
  };
  if (t.mode === 'ISTIO_MUTUAL') return base;
  return {
    ...base,
    ...certificates(snapshot, proxyNamespace, t.credentialName, {
      certificateChain: t.clientCertificate,
      privateKey: t.privateKey,
      trustedCa: t.caCertificates,
    }),
  };
}

interface CertificateMaterial {
  readonly certificateChain?: PemSource;
  readonly privateKey?: PemSource;
  readonly trustedCa?: PemSource;
  readonly unavailable?: string;
}

/**
 * A TLS block's certificates: its credentialName's secret in `namespace` (as PEM text; `unavailable` when there is
 * none), or else the files it names (as paths).
 */
function certificates(
  snapshot: Snapshot,
  namespace: string,
  credentialName: string | undefined,
  files: { readonly certificateChain?: string; readonly privateKey?: string; readonly trustedCa?: string },
): CertificateMaterial {
  if (credentialName) {
    const secret = credential(snapshot, namespace, credentialName);
    if (!secret) return { unavailable: missing(namespace, credentialName) };
    return {
      ...optional('certificateChain', pem(secret.certificateChain)),
      ...optional('privateKey', pem(secret.privateKey)),
      ...optional('trustedCa', pem(secret.trustedCa)),
    };
  }
  return {
    ...optional('certificateChain', file(files.certificateChain)),
    ...optional('privateKey', file(files.privateKey)),
    ...optional('trustedCa', file(files.trustedCa)),
  };
}

function optional<K extends string>(key: K, value: PemSource | undefined): { [P in K]?: PemSource } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: PemSource };
}
