import type { AnyResource, Diagnostic, DiagnosticLevel, SourcePosition } from '../../model/index.js';

/**
 * Cross-resource findings. IST codes reuse istioctl analyze's code, name and level; TG1xxx are tollgate's own
 * analyzer codes (TG0xxx belong to ingest and per-resource validation).
 */
export const ANALYZER_CODES = {
  // istioctl analyze's codes, names and levels.
  ReferencedResourceNotFound: {
    code: 'IST0101',
    level: 'error',
    summary:
      'A reference to nothing: a gateway, a destination host, a subset, or a Gateway selector that matches no gateway workload.',
  },
  ConflictingMeshGatewayVirtualServiceHosts: {
    code: 'IST0109',
    level: 'error',
    summary: 'Two VirtualServices bound to the mesh claim the same host; sidecars use only one of them.',
  },
  VirtualServiceUnreachableRule: {
    code: 'IST0130',
    level: 'warning',
    summary: 'A rule that never matches: after a catch-all, or every match taken by earlier rules.',
  },
  VirtualServiceIneffectiveMatch: { code: 'IST0131', level: 'info', summary: 'A match that repeats an earlier one.' },
  VirtualServiceHostNotFoundInGateway: {
    code: 'IST0132',
    level: 'warning',
    summary: 'A VirtualService bound to a Gateway that serves none of its hosts.',
  },
  ServiceEntryAddressesRequired: {
    code: 'IST0134',
    level: 'warning',
    summary: 'A TCP port without addresses: it captures that port for every destination IP.',
  },
  ConflictingGateways: {
    code: 'IST0145',
    level: 'error',
    summary: 'Two Gateways on the same workloads, port and host.',
  },
  GatewayPortNotDefinedOnService: {
    code: 'IST0162',
    level: 'warning',
    summary: "A Gateway server port that the gateway's Service does not expose.",
  },
  // tollgate's own, for the egress mistakes Istio users make most (resolution NONE behind a gateway, subsets out
  // of reach, VirtualServices that never reach the gateway, SNI and mTLS mismatches, TLS origination, credentials).
  VirtualServiceNotBoundToMesh: {
    code: 'TG1001',
    level: 'info',
    summary: 'A VirtualService bound to a gateway but not to `mesh`: sidecars never send its hosts to the gateway.',
  },
  GatewayDestinationWithoutEndpoints: {
    code: 'TG1002',
    level: 'error',
    summary: 'A gateway route to a ServiceEntry host with resolution NONE (or DNS on a wildcard): 503 UH.',
  },
  SubsetNotVisibleToClient: {
    code: 'TG1003',
    level: 'warning',
    summary: "A subset whose DestinationRule is not on some client namespace's lookup path: 503 NC there.",
  },
  MeshRouteNeverMatches: {
    code: 'TG1004',
    level: 'warning',
    summary: "A mesh rule whose match.port is no port of the host's service: traffic never reaches the gateway.",
  },
  GatewayServerWithoutVirtualService: {
    code: 'TG1005',
    level: 'warning',
    summary: 'A Gateway server host that no VirtualService binds: 404 NR for every request.',
  },
  IstioMutualSniMismatch: {
    code: 'TG1006',
    level: 'warning',
    summary: "ISTIO_MUTUAL to an HTTPS gateway server without a DestinationRule `sni` matching the server's hosts.",
  },
  TlsServerNeedsTcpRoutes: {
    code: 'TG1007',
    level: 'error',
    summary: 'A terminating TLS server (TLS + ISTIO_MUTUAL/SIMPLE) bound by `tls` routes: it needs `tcp` routes.',
  },
  DuplicateSniHost: {
    code: 'TG1008',
    level: 'warning',
    summary: 'The same SNI host twice on one gateway port: the later rule is skipped.',
  },
  SidecarScopeIsNotAFirewall: {
    code: 'TG1009',
    level: 'info',
    summary: 'Sidecar egress.hosts under ALLOW_ANY: scoping, not blocking; other hosts still pass through.',
  },
  GatewayProxyNotInService: {
    code: 'TG1010',
    level: 'warning',
    summary:
      "A running gateway proxy that a Gateway selects but that lacks labels of its gateway Service's selector: 503 UH.",
  },
  PassthroughServerWithoutTlsRoutes: {
    code: 'TG1011',
    level: 'error',
    summary:
      'A PASSTHROUGH gateway server bound by http or tcp rules and no tls rule: it routes by SNI only and closes the connections.',
  },
  TlsOriginationOnTlsTraffic: {
    code: 'TG1012',
    level: 'warning',
    summary:
      'TLS originated (SIMPLE/MUTUAL) on a TLS/HTTPS port that only already-encrypted traffic reaches: TLS inside TLS.',
  },
  MeshL4RuleWithoutServicePort: {
    code: 'TG1013',
    level: 'warning',
    summary:
      'A mesh tls rule for hosts no service declares on a TLS/HTTPS port, or a tcp rule on a port not declared for TCP: sidecars never use it.',
  },
  CredentialNotFound: {
    code: 'TG1014',
    level: 'error',
    summary: 'A credentialName with no folder under secrets/ in the namespace the proxy looks in: its TLS fails.',
  },
  CredentialIncomplete: {
    code: 'TG1015',
    level: 'error',
    summary: 'A credential missing a part its mode needs: the certificate and key, or for MUTUAL servers the CA.',
  },
  CertificateFileUnreadable: {
    code: 'TG1016',
    level: 'warning',
    summary: 'A certificate, key or CA file that cannot be read on this host, where local-mode proxies read it.',
  },
  GatewayPortTlsMismatch: {
    code: 'TG1017',
    level: 'error',
    summary:
      'A mesh route to a gateway port whose server expects other TLS than sidecars send (plaintext into ISTIO_MUTUAL, ISTIO_MUTUAL into HTTP).',
  },
  InvalidAccessLogFormat: {
    code: 'TG1018',
    level: 'error',
    summary:
      'A meshConfig.accessLogFormat the proxies cannot write: an unknown command, a bad argument, or not a JSON object with accessLogEncoding JSON.',
  },
  AccessLogFormatUnsupported: {
    code: 'TG1019',
    level: 'warning',
    summary:
      'Envoy command operators in meshConfig.accessLogFormat that tollgate writes as "-" (TLS peers, metadata, gRPC).',
  },
} as const satisfies Record<string, { code: string; level: DiagnosticLevel; summary: string }>;

export type AnalyzerCodeName = keyof typeof ANALYZER_CODES;

export function finding(
  name: AnalyzerCodeName,
  resource: AnyResource,
  field: string,
  message: string,
  hint: string,
): Diagnostic {
  const info = ANALYZER_CODES[name];
  return {
    code: info.code,
    name,
    level: info.level,
    message,
    position: positionOf(resource, field),
    resource: { kind: resource.kind, namespace: resource.meta.namespace, name: resource.meta.name },
    field,
    hint,
  };
}

/**
 * The position of `field`, else of its nearest written ancestor ("spec.gateways" when the list was omitted and
 * filled by a default), else the document's.
 */
function positionOf(resource: AnyResource, field: string): SourcePosition {
  let path = field;
  for (;;) {
    const pos = resource.positions.get(path);
    if (pos) return pos;
    const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
    if (cut <= 0) return resource.source;
    path = path.slice(0, cut);
  }
}
