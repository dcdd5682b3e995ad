import type { Diagnostic, DiagnosticLevel } from '../model/index.js';

export interface CodeInfo {
  readonly code: string;
  readonly level: DiagnosticLevel;
  /** One line: what the rule checks, for `tollgate validate --explain` style listings. */
  readonly summary: string;
}

/**
 * The one catalog of tollgate's own diagnostic codes. Codes are stable: never renumber, only add.
 * TG00xx: ingest (YAML, kinds, schema); TG01xx: per-resource rules mirroring Istio's
 * pkg/config/validation; TG02xx: Kubernetes workloads and install resources; TG03xx: the config store.
 */
export const CODES = {
  YamlSyntaxError: { code: 'TG0001', level: 'error', summary: 'The YAML cannot be parsed.' },
  UnknownKind: {
    code: 'TG0002',
    level: 'warning',
    summary: 'A document of a kind tollgate does not read; it is skipped.',
  },
  UnknownApiVersion: {
    code: 'TG0003',
    level: 'error',
    summary: 'A known kind with an apiVersion tollgate does not read.',
  },
  UnknownField: { code: 'TG0004', level: 'warning', summary: 'A field the schema does not know; it is ignored.' },
  InvalidType: { code: 'TG0005', level: 'error', summary: 'A value of the wrong type.' },
  MissingField: { code: 'TG0006', level: 'error', summary: 'A required field is missing.' },
  InvalidDuration: {
    code: 'TG0007',
    level: 'error',
    summary: 'A duration that is not like "3s", "100ms", "1m", "1.5s" or "1h".',
  },
  InvalidEnumValue: { code: 'TG0008', level: 'error', summary: 'A value outside the allowed set.' },
  ConflictingFields: { code: 'TG0009', level: 'error', summary: 'Fields that exclude each other are set together.' },
  HeaderNameNotLowercase: { code: 'TG0010', level: 'warning', summary: 'A header match key is not lower-case.' },
  YamlLimitExceeded: {
    code: 'TG0011',
    level: 'error',
    summary:
      "YAML over tollgate's limits (file size, documents, nesting depth, aliases or alias expansion); refused unread.",
  },
  InvalidResourceName: {
    code: 'TG0012',
    level: 'error',
    summary: 'metadata.name is not a DNS-1123 subdomain (or, where the kind needs one, a DNS-1123 or DNS-1035 label).',
  },
  InvalidNamespace: { code: 'TG0013', level: 'error', summary: 'metadata.namespace is not a DNS-1123 label.' },
  IngestInternalError: {
    code: 'TG0014',
    level: 'error',
    summary: 'tollgate failed to read a document (a bug); the document is refused.',
  },
  EmptyFile: {
    code: 'TG0015',
    level: 'warning',
    summary: 'A file with no resources in it (empty, or only comments); applying it changes nothing.',
  },

  // Shared by several kinds.
  InvalidHostname: { code: 'TG0100', level: 'error', summary: 'A host that is not a valid (wildcard) DNS name.' },
  PartialWildcardHost: {
    code: 'TG0101',
    level: 'warning',
    summary: 'A wildcard that is not a whole leading label ("*.example.com").',
  },
  InvalidPortNumber: { code: 'TG0102', level: 'error', summary: 'A port number outside 1..65535.' },
  InvalidPortName: { code: 'TG0103', level: 'error', summary: 'A port name that is not a DNS-1123 label.' },
  InvalidAddress: { code: 'TG0104', level: 'error', summary: 'An address that is not an IP or CIDR block.' },
  InvalidExportTo: { code: 'TG0105', level: 'error', summary: 'Duplicate or conflicting exportTo entries.' },
  InvalidLabelSelector: { code: 'TG0106', level: 'error', summary: 'A selector with an empty key or a wildcard.' },
  EmptyWorkloadSelector: {
    code: 'TG0107',
    level: 'warning',
    summary: 'A workload selector without labels selects every workload.',
  },

  // ServiceEntry
  ServiceEntryNoHosts: { code: 'TG0110', level: 'error', summary: 'A ServiceEntry needs at least one host.' },
  EndpointsWithWorkloadSelector: {
    code: 'TG0111',
    level: 'error',
    summary: 'endpoints and workloadSelector are exclusive.',
  },
  EndpointsWithResolutionNone: { code: 'TG0112', level: 'error', summary: 'Resolution NONE cannot have endpoints.' },
  DnsHostNotFqdn: {
    code: 'TG0113',
    level: 'error',
    summary: 'DNS resolution without endpoints resolves the hosts, so they must be FQDNs.',
  },
  DnsRoundRobinEndpoints: { code: 'TG0114', level: 'error', summary: 'DNS_ROUND_ROBIN allows at most one endpoint.' },
  DuplicatePortNumber: { code: 'TG0115', level: 'error', summary: 'Two ports with the same number.' },
  DuplicatePortName: { code: 'TG0116', level: 'error', summary: 'Two ports with the same name.' },
  EndpointPortNotDeclared: { code: 'TG0117', level: 'error', summary: 'An endpoint port name that is not in ports.' },
  CidrRequiresNoneOrStatic: {
    code: 'TG0118',
    level: 'error',
    summary: 'CIDR addresses only work with NONE or STATIC resolution.',
  },
  InvalidEndpointAddress: {
    code: 'TG0119',
    level: 'error',
    summary: 'An endpoint address that is not an IP (STATIC) or FQDN/IP (DNS).',
  },
  MultipleHostsTcpPort: {
    code: 'TG0120',
    level: 'error',
    summary: 'Several hosts on a non-HTTP, non-TLS port cannot be told apart.',
  },
  SelectorIgnoredByResolution: {
    code: 'TG0122',
    level: 'warning',
    summary: 'workloadSelector has no effect with this resolution.',
  },
  TargetPortIgnored: { code: 'TG0123', level: 'warning', summary: 'targetPort has no effect with resolution NONE.' },
  DynamicDnsRules: {
    code: 'TG0124',
    level: 'error',
    summary: 'DYNAMIC_DNS needs wildcard hosts and no addresses or endpoints.',
  },

  // Gateway
  GatewayNoServers: { code: 'TG0130', level: 'error', summary: 'A Gateway needs at least one server.' },
  ServerNoHosts: { code: 'TG0131', level: 'error', summary: 'A Gateway server needs at least one host.' },
  ServerTlsRequired: { code: 'TG0132', level: 'error', summary: 'HTTPS and TLS servers need tls settings.' },
  ServerTlsNotAllowed: {
    code: 'TG0133',
    level: 'error',
    summary: 'Plain-text servers may only carry tls.httpsRedirect.',
  },
  DuplicateServerPortName: {
    code: 'TG0134',
    level: 'error',
    summary: 'Server port names must be unique in a Gateway.',
  },
  InvalidServerTls: { code: 'TG0135', level: 'error', summary: 'Server TLS settings that do not fit the mode.' },
  HttpsRedirectOnNonHttp: {
    code: 'TG0136',
    level: 'warning',
    summary: 'tls.httpsRedirect only applies to HTTP servers.',
  },
  GatewayTargetPort: { code: 'TG0137', level: 'error', summary: 'targetPort has no effect on Gateway servers.' },
  InvalidGatewayName: { code: 'TG0138', level: 'error', summary: 'A Gateway name must be a DNS-1123 label (no dots).' },
  ServerProtocolConflict: {
    code: 'TG0139',
    level: 'warning',
    summary: 'Plain-text and TLS servers on one port conflict.',
  },
  ServerPortNameMissing: { code: 'TG0140', level: 'error', summary: 'A Gateway server port needs a name.' },
  ServerTlsCertificatesIgnored: {
    code: 'TG0141',
    level: 'warning',
    summary: 'Passthrough modes do not use certificates.',
  },

  // VirtualService
  VirtualServiceNoHosts: {
    code: 'TG0150',
    level: 'warning',
    summary: 'A VirtualService without hosts is only usable as a delegate.',
  },
  DelegateVirtualServiceShape: {
    code: 'TG0151',
    level: 'error',
    summary: 'A delegate VirtualService cannot have gateways, tls or tcp routes.',
  },
  WildcardHostForMesh: {
    code: 'TG0152',
    level: 'error',
    summary: 'Host "*" is not allowed for VirtualServices bound to the mesh.',
  },
  DuplicateVirtualServiceHosts: { code: 'TG0153', level: 'error', summary: 'Two hosts of one VirtualService overlap.' },
  VirtualServiceNoRoutes: {
    code: 'TG0154',
    level: 'error',
    summary: 'A VirtualService needs http, tls or tcp routes.',
  },
  HttpRouteAction: {
    code: 'TG0155',
    level: 'error',
    summary: 'An http route needs exactly one of route, redirect, directResponse, delegate.',
  },
  RedirectConflict: { code: 'TG0156', level: 'error', summary: 'redirect cannot be combined with rewrite or fault.' },
  InvalidWeight: { code: 'TG0157', level: 'error', summary: 'Negative weights, or weights that add up to zero.' },
  InvalidRegex: { code: 'TG0158', level: 'error', summary: 'A regex that does not compile or is too long.' },
  InvalidHeaderName: { code: 'TG0159', level: 'error', summary: 'A header name outside [-_A-Za-z0-9].' },
  InvalidGatewayReference: {
    code: 'TG0160',
    level: 'error',
    summary: 'A gateways entry that is not "mesh" or "namespace/name".',
  },
  InvalidRedirect: {
    code: 'TG0161',
    level: 'error',
    summary: 'A redirect without target, or with a bad code or scheme.',
  },
  InvalidRewrite: {
    code: 'TG0162',
    level: 'error',
    summary: 'A rewrite that sets nothing, or both uri and uriRegexRewrite.',
  },
  InvalidRetry: { code: 'TG0163', level: 'error', summary: 'A retry policy with bad attempts or retryOn values.' },
  InvalidFault: { code: 'TG0164', level: 'error', summary: 'A fault without delay or abort, or with bad values.' },
  InvalidPercentage: { code: 'TG0165', level: 'error', summary: 'A percentage outside 0..100.' },
  InvalidTlsRouteMatch: {
    code: 'TG0166',
    level: 'error',
    summary: 'A tls route match without SNI hosts, or SNI outside the VirtualService hosts.',
  },
  InvalidDestination: {
    code: 'TG0168',
    level: 'error',
    summary: 'A route destination with a bad host, subset or port.',
  },
  InvalidDirectResponse: {
    code: 'TG0169',
    level: 'error',
    summary: 'A direct response with a bad status or an oversized body.',
  },
  EmptyStringMatch: { code: 'TG0170', level: 'error', summary: 'An empty prefix or regex string match.' },
  InvalidHeaderOperation: {
    code: 'TG0171',
    level: 'error',
    summary:
      'A header operation on a pseudo-header or Host, or a name or value that cannot be sent (empty, not a token, a control character, a lone %).',
  },
  LegacyGatewayName: {
    code: 'TG0172',
    level: 'warning',
    summary: 'A gateway named "name.namespace" instead of "namespace/name".',
  },
  InvalidSourceNamespace: { code: 'TG0173', level: 'error', summary: 'sourceNamespace must be a DNS-1123 label.' },
  RouteMissing: { code: 'TG0174', level: 'error', summary: 'A tls or tcp rule without route destinations.' },
  HeaderValueNotExpanded: {
    code: 'TG0175',
    level: 'warning',
    summary: 'A header value with an Envoy %VARIABLE%, which tollgate sends as written (Envoy would substitute it).',
  },

  // DestinationRule
  DuplicateSubsetName: { code: 'TG0180', level: 'error', summary: 'Two subsets with the same name.' },
  InvalidSubsetName: {
    code: 'TG0181',
    level: 'error',
    summary: 'A subset name that is empty or not a DNS-1123 label.',
  },
  EmptyTrafficPolicy: {
    code: 'TG0182',
    level: 'error',
    summary: 'A traffic policy (or port traffic policy) with no fields.',
  },
  InvalidClientTls: { code: 'TG0183', level: 'error', summary: 'Client TLS settings that do not fit the mode.' },
  ClientTlsSettingsIgnored: {
    code: 'TG0185',
    level: 'warning',
    summary: 'Client TLS fields the mode does not use (a client certificate with SIMPLE, files with ISTIO_MUTUAL).',
  },
  InvalidTrafficPolicyValue: {
    code: 'TG0184',
    level: 'error',
    summary: 'A connection pool, outlier detection or load balancer value out of range.',
  },

  // Sidecar
  SidecarEmpty: {
    code: 'TG0190',
    level: 'error',
    summary: 'A Sidecar with no egress, ingress or outboundTrafficPolicy.',
  },
  SidecarEgressHostFormat: { code: 'TG0191', level: 'error', summary: 'Sidecar egress hosts are "namespace/dnsName".' },
  SidecarEgressNoHosts: {
    code: 'TG0192',
    level: 'error',
    summary: 'A Sidecar egress listener needs at least one host.',
  },
  SidecarCatchAllEgress: {
    code: 'TG0193',
    level: 'error',
    summary: 'Only one egress listener without port, and it must be last.',
  },
  SidecarDuplicatePort: { code: 'TG0194', level: 'error', summary: 'Two egress listeners on one port.' },
  SidecarDuplicateHost: { code: 'TG0195', level: 'warning', summary: 'The same egress host listed twice.' },

  // Kubernetes workloads and install resources
  SelectorMismatch: {
    code: 'TG0200',
    level: 'error',
    summary: 'A Deployment selector that does not match its pod template labels.',
  },
  NoContainers: { code: 'TG0201', level: 'error', summary: 'A Deployment needs at least one container.' },
  DuplicateEgressGateway: {
    code: 'TG0202',
    level: 'error',
    summary: 'Two egress gateways with the same namespace/name.',
  },
  InvalidReplicas: { code: 'TG0203', level: 'error', summary: 'A negative replica count.' },
  // TG03xx: the config store (the config directory and apply/delete).
  DuplicateResource: {
    code: 'TG0301',
    level: 'warning',
    summary: 'A resource defined twice in the config directory; the first definition is in force.',
  },
  LastGoodConfigInForce: {
    code: 'TG0302',
    level: 'warning',
    summary: 'A file or resource in error; its last good version stays in force.',
  },
  DeleteFailed: { code: 'TG0303', level: 'error', summary: 'A resource could not be removed from its file.' },
  ConfigWithheld: {
    code: 'TG0304',
    level: 'error',
    summary:
      'At a start with no last good configuration, the config directory has errors: no configuration is served until it reads cleanly.',
  },
  ConfigFileUnreadable: {
    code: 'TG0305',
    level: 'error',
    summary: 'A file in the config directory cannot be read (permissions, not UTF-8); its last good version stays.',
  },
  ConfigFileTruncated: {
    code: 'TG0306',
    level: 'error',
    summary: 'A file is its last good content cut short mid-document (a partial write); its last good version stays.',
  },
  ProxyCapacityExceeded: {
    code: 'TG0307',
    level: 'error',
    summary: 'More proxies are declared than the local mesh has pod addresses for (--pod-cidr).',
  },
} as const satisfies Record<string, CodeInfo>;

export type CodeName = keyof typeof CODES;

export interface DiagnosticFields {
  readonly message: string;
  readonly position?: Diagnostic['position'];
  readonly resource?: Diagnostic['resource'];
  readonly field?: string;
  readonly hint?: string;
  /** Overrides the catalog level; rare (a rule that Istio treats as a warning in one context only). */
  readonly level?: DiagnosticLevel;
}

export function makeDiagnostic(name: CodeName, f: DiagnosticFields): Diagnostic {
  const info: CodeInfo = CODES[name];
  return {
    code: info.code,
    name,
    level: f.level ?? info.level,
    message: f.message,
    ...(f.position ? { position: f.position } : {}),
    ...(f.resource ? { resource: f.resource } : {}),
    ...(f.field ? { field: f.field } : {}),
    ...(f.hint ? { hint: f.hint } : {}),
  };
}
