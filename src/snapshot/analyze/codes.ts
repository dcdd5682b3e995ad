import type { AnyResource, Diagnostic, DiagnosticLevel, SourcePosition } from '../../model/index.js';

/**
 * Cross-resource findings. IST codes reuse istioctl analyze's code, name and level; TG1xxx are tollgate's own
 * analyzer codes (TG0xxx belong to ingest and per-resource validation).
 */
export const ANALYZER_CODES = {
  // istioctl analyze's codes, names and levels.
  ReferencedResourceNotFound: { code: 'IST0101', level: 'error' },
  ConflictingMeshGatewayVirtualServiceHosts: { code: 'IST0109', level: 'error' },
  VirtualServiceUnreachableRule: { code: 'IST0130', level: 'warning' },
  VirtualServiceIneffectiveMatch: { code: 'IST0131', level: 'info' },
  VirtualServiceHostNotFoundInGateway: { code: 'IST0132', level: 'warning' },
  ServiceEntryAddressesRequired: { code: 'IST0134', level: 'warning' },
  ConflictingGateways: { code: 'IST0145', level: 'error' },
  GatewayPortNotDefinedOnService: { code: 'IST0162', level: 'warning' },
  // tollgate's own, for the egress pitfalls (shared/reference §11).
  /** A VirtualService bound to a gateway but not to `mesh`: sidecars never send its hosts to the gateway. */
  VirtualServiceNotBoundToMesh: { code: 'TG1001', level: 'info' },
  /** A gateway routes to a ServiceEntry host with resolution NONE (or DNS with nothing to resolve): 503 UH. */
  GatewayDestinationWithoutEndpoints: { code: 'TG1002', level: 'error' },
  /** A route names a subset whose DestinationRule is not on some client namespace's lookup path: 503 NC there. */
  SubsetNotVisibleToClient: { code: 'TG1003', level: 'warning' },
  /** A mesh rule whose match.port no port of the host's service has: traffic never reaches the gateway. */
  MeshRouteNeverMatches: { code: 'TG1004', level: 'warning' },
  /** A Gateway server host that no VirtualService binds: 404 NR for every request to it. */
  GatewayServerWithoutVirtualService: { code: 'TG1005', level: 'warning' },
  /** HTTPS ISTIO_MUTUAL gateway server, but the clients' DestinationRule has no `sni` matching its hosts. */
  IstioMutualSniMismatch: { code: 'TG1006', level: 'warning' },
  /** A terminating TLS server (TLS + ISTIO_MUTUAL/SIMPLE) bound by `tls` routes: those need `tcp` routes. */
  TlsServerNeedsTcpRoutes: { code: 'TG1007', level: 'error' },
  /** The same SNI host twice on one gateway port: the later rule is skipped. */
  DuplicateSniHost: { code: 'TG1008', level: 'warning' },
  /** Sidecar egress.hosts scoping, not blocking: under ALLOW_ANY hosts outside it still pass through. */
  SidecarScopeIsNotAFirewall: { code: 'TG1009', level: 'info' },
} as const satisfies Record<string, { code: string; level: DiagnosticLevel }>;

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
