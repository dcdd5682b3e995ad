import type {
  ClientTLSSettings,
  ConnectionPoolSettings,
  DestinationRuleSpec,
  LoadBalancerSettings,
  OutlierDetection,
  TrafficPolicy,
} from '../../model/index.js';
import { anything, array, bool, duration, enumOf, int, object, optional, string, type Infer } from '../schema.js';
import { compact, defineKind, labels, optionalArray, portSelector, qualifyHost } from './common.js';

const consistentHash = object({
  httpHeaderName: optional(string()),
  httpCookie: optional(
    object({
      name: optional(string()),
      path: optional(string()),
      ttl: optional(duration()),
      attributes: optional(anything()),
    }),
  ),
  useSourceIp: optional(bool()),
  httpQueryParameterName: optional(string()),
  ringHash: optional(anything()),
  maglev: optional(anything()),
  minimumRingSize: optional(int()),
});

const loadBalancer = object({
  simple: optional(enumOf(['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST'])),
  consistentHash: optional(consistentHash),
  localityLbSetting: optional(anything()),
  warmupDurationSecs: optional(duration()),
  warmup: optional(anything()),
});

const connectionPool = object({
  tcp: optional(
    object({
      maxConnections: optional(int()),
      connectTimeout: optional(duration()),
      tcpKeepalive: optional(anything()),
      maxConnectionDuration: optional(duration()),
      idleTimeout: optional(duration()),
    }),
  ),
  http: optional(
    object({
      http1MaxPendingRequests: optional(int()),
      http2MaxRequests: optional(int()),
      maxRequestsPerConnection: optional(int()),
      maxRetries: optional(int()),
      idleTimeout: optional(duration()),
      h2UpgradePolicy: optional(enumOf(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'])),
      useClientProtocol: optional(bool()),
      maxConcurrentStreams: optional(int()),
    }),
  ),
});

const outlierDetection = object({
  consecutiveErrors: optional(int()),
  consecutive5xxErrors: optional(int()),
  consecutiveGatewayErrors: optional(int()),
  consecutiveLocalOriginFailures: optional(int()),
  splitExternalLocalOriginErrors: optional(bool()),
  interval: optional(duration()),
  baseEjectionTime: optional(duration()),
  maxEjectionPercent: optional(int()),
  minHealthPercent: optional(int()),
});

const clientTls = object({
  mode: optional(enumOf(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'])),
  clientCertificate: optional(string()),
  privateKey: optional(string()),
  caCertificates: optional(string()),
  credentialName: optional(string()),
  subjectAltNames: optionalArray(string()),
  sni: optional(string()),
  insecureSkipVerify: optional(bool()),
  caCrl: optional(string()),
});

const policyFields = {
  loadBalancer: optional(loadBalancer),
  connectionPool: optional(connectionPool),
  outlierDetection: optional(outlierDetection),
  tls: optional(clientTls),
};

const trafficPolicy = object({
  ...policyFields,
  portLevelSettings: optional(array(object({ port: optional(portSelector()), ...policyFields }))),
  tunnel: optional(anything()),
  proxyProtocol: optional(anything()),
});

export const destinationRuleSpec = object({
  host: string(),
  trafficPolicy: optional(trafficPolicy),
  subsets: optional(
    array(object({ name: optional(string()), labels: optional(labels()), trafficPolicy: optional(trafficPolicy) })),
  ),
  exportTo: optionalArray(string()),
  workloadSelector: optional(object({ matchLabels: optional(labels()) })),
});

export type ExtDestinationRule = Infer<typeof destinationRuleSpec>;
type ExtTrafficPolicy = Infer<typeof trafficPolicy>;

function lb(l: Infer<typeof loadBalancer> | undefined): LoadBalancerSettings | undefined {
  if (!l) return undefined;
  if (l.consistentHash) {
    const c = l.consistentHash;
    return compact({
      kind: 'consistentHash' as const,
      httpHeaderName: c.httpHeaderName,
      httpCookie: c.httpCookie
        ? compact({ name: c.httpCookie.name ?? '', path: c.httpCookie.path, ttlMs: c.httpCookie.ttl })
        : undefined,
      useSourceIp: c.useSourceIp,
      httpQueryParameterName: c.httpQueryParameterName,
    });
  }
  if (l.simple) return { kind: 'simple', simple: l.simple };
  return undefined;
}

function pool(p: Infer<typeof connectionPool> | undefined): ConnectionPoolSettings | undefined {
  if (!p) return undefined;
  return compact({
    tcp: p.tcp
      ? compact({
          maxConnections: p.tcp.maxConnections,
          connectTimeoutMs: p.tcp.connectTimeout,
          idleTimeoutMs: p.tcp.idleTimeout,
        })
      : undefined,
    http: p.http
      ? compact({
          http1MaxPendingRequests: p.http.http1MaxPendingRequests,
          http2MaxRequests: p.http.http2MaxRequests,
          maxRequestsPerConnection: p.http.maxRequestsPerConnection,
          maxRetries: p.http.maxRetries,
          idleTimeoutMs: p.http.idleTimeout,
        })
      : undefined,
  });
}

function outlier(o: Infer<typeof outlierDetection> | undefined): OutlierDetection | undefined {
  if (!o) return undefined;
  return compact({
    // The deprecated consecutiveErrors maps onto consecutive5xxErrors, as Istio does.
    consecutive5xxErrors: o.consecutive5xxErrors ?? o.consecutiveErrors,
    consecutiveGatewayErrors: o.consecutiveGatewayErrors,
    intervalMs: o.interval,
    baseEjectionTimeMs: o.baseEjectionTime,
    maxEjectionPercent: o.maxEjectionPercent,
  });
}

function tls(t: Infer<typeof clientTls> | undefined): ClientTLSSettings | undefined {
  if (!t) return undefined;
  return compact({
    mode: t.mode ?? 'DISABLE',
    sni: t.sni,
    credentialName: t.credentialName,
    caCertificates: t.caCertificates,
    clientCertificate: t.clientCertificate,
    privateKey: t.privateKey,
    subjectAltNames: t.subjectAltNames ?? [],
    insecureSkipVerify: t.insecureSkipVerify ?? false,
  });
}

function policy(p: ExtTrafficPolicy | undefined): TrafficPolicy | undefined {
  if (!p) return undefined;
  return compact({
    loadBalancer: lb(p.loadBalancer),
    connectionPool: pool(p.connectionPool),
    outlierDetection: outlier(p.outlierDetection),
    tls: tls(p.tls),
    portLevelSettings: (p.portLevelSettings ?? []).map((s) =>
      compact({
        // A missing port is reported by validation; 0 never matches a real port.
        port: s.port?.number ?? 0,
        loadBalancer: lb(s.loadBalancer),
        connectionPool: pool(s.connectionPool),
        outlierDetection: outlier(s.outlierDetection),
        tls: tls(s.tls),
      }),
    ),
  });
}

export const destinationRuleCodec = defineKind({
  kind: 'DestinationRule',
  group: 'networking.istio.io',
  versions: ['v1alpha3', 'v1beta1', 'v1'],
  strict: true,
  spec: destinationRuleSpec,
  specRequired: true,
  normalize(ext, meta): DestinationRuleSpec {
    return compact({
      host: qualifyHost(ext?.host ?? '', meta.namespace),
      trafficPolicy: policy(ext?.trafficPolicy),
      subsets: (ext?.subsets ?? []).map((s) =>
        compact({ name: s.name ?? '', labels: s.labels ?? {}, trafficPolicy: policy(s.trafficPolicy) }),
      ),
      exportTo: ext?.exportTo ?? [],
      workloadSelector: ext?.workloadSelector ? { matchLabels: ext.workloadSelector.matchLabels ?? {} } : undefined,
    });
  },
});
