// Clusters compiled into frozen definitions plus their per-config runtime state (picker counters, breakers).
import { isIP } from 'node:net';
import type { Cluster, ClusterMetadata, ClusterType, Endpoint } from '../proxy-config/types.js';
import { CircuitBreaker } from './cluster-limits.js';
import { createPicker, type EndpointPicker, type Target } from './cluster-lb.js';
import { ConfigError } from './errors.js';
import { compileHashKey, type HashKey } from './hash-key.js';
import { compileUpstreamTls, type CompiledUpstreamTls, type TlsMaterials } from './network/tls-contexts.js';
import { OutlierDetector } from './outlier.js';

export interface CompiledCluster {
  readonly name: string;
  readonly type: ClusterType;
  readonly endpoints: readonly Endpoint[];
  readonly connectTimeoutMs: number;
  readonly picker: EndpointPicker;
  readonly breaker: CircuitBreaker;
  /** Used to size the connection pool: at most this many sockets to the cluster. */
  readonly maxConnections: number | undefined;
  readonly metadata: ClusterMetadata;
  /** Undefined without outlier detection. */
  readonly outlier: OutlierDetector | undefined;
  /** The request's consistent-hash key; undefined without a hash policy. */
  readonly hashKey: HashKey | undefined;
  /** STATIC/EDS targets never change for a config: resolved once, reused by every request. */
  readonly memo: { targets?: readonly Target[] };
  /** TLS originated to the endpoints; undefined for plain connections. */
  readonly tls: CompiledUpstreamTls | undefined;
  /** The draws of its load balancer and of its retries' back-off jitter (the data plane's, injectable). */
  readonly random: () => number;
}

const CLUSTER_TYPES: Readonly<Record<ClusterType, { ipEndpoints: boolean }>> = {
  ORIGINAL_DST: { ipEndpoints: true },
  STATIC: { ipEndpoints: true },
  EDS: { ipEndpoints: true },
  STRICT_DNS: { ipEndpoints: false },
  LOGICAL_DNS: { ipEndpoints: false },
};

export function compileCluster(
  c: Cluster,
  field: string,
  now: () => number = Date.now,
  materials: TlsMaterials = {},
  random: () => number = Math.random,
): CompiledCluster {
  const kind = CLUSTER_TYPES[c.type];
  if (!kind) throw new ConfigError(`${field}.type`, `unknown cluster type ${JSON.stringify(c.type)}`);
  if (!['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM'].includes(c.lbPolicy)) {
    throw new ConfigError(`${field}.lbPolicy`, `unknown load-balancing policy ${JSON.stringify(c.lbPolicy)}`);
  }
  if (!(c.connectTimeoutMs > 0)) throw new ConfigError(`${field}.connectTimeoutMs`, 'must be a positive number');
  c.endpoints.forEach((e, i) => {
    const ef = `${field}.endpoints[${i}]`;
    if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) {
      throw new ConfigError(`${ef}.port`, `${e.port} is not a port number`);
    }
    if (kind.ipEndpoints && isIP(e.address) === 0) {
      throw new ConfigError(`${ef}.address`, `${JSON.stringify(e.address)} is not an IP address (${c.type})`);
    }
    if (e.weight !== undefined && !(e.weight > 0)) throw new ConfigError(`${ef}.weight`, 'must be positive');
  });
  const od = c.outlierDetection;
  if (od) {
    for (const k of ['intervalMs', 'baseEjectionTimeMs', 'maxEjectionPercent'] as const) {
      if (!(od[k] >= 0)) throw new ConfigError(`${field}.outlierDetection.${k}`, 'must be a non-negative number');
    }
  }
  const hashKey = c.hashPolicy ? compileHashKey(c.hashPolicy, `${field}.hashPolicy`) : undefined;
  const cb = c.circuitBreakers;
  return Object.freeze({
    name: c.name,
    type: c.type,
    endpoints: Object.freeze([...c.endpoints]),
    connectTimeoutMs: c.connectTimeoutMs,
    picker: createPicker(c.lbPolicy, hashKey !== undefined, random),
    random,
    breaker: new CircuitBreaker(cb),
    maxConnections: cb?.maxConnections,
    metadata: c.metadata,
    outlier: od ? new OutlierDetector(od, now) : undefined,
    hashKey,
    memo: {},
    tls: c.tls ? compileUpstreamTls(c.tls, `${field}.tls`, materials) : undefined,
  });
}
