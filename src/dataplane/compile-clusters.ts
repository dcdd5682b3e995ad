// Clusters compiled into frozen definitions plus their per-config runtime state (picker counters, breakers).
import { isIP } from 'node:net';
import type { Cluster, ClusterMetadata, ClusterType, Endpoint } from '../proxy-config/types.js';
import { CircuitBreaker } from './cluster-limits.js';
import { createPicker, type EndpointPicker } from './cluster-lb.js';
import { ConfigError } from './errors.js';

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
}

const CLUSTER_TYPES: Readonly<Record<ClusterType, { ipEndpoints: boolean }>> = {
  ORIGINAL_DST: { ipEndpoints: true },
  STATIC: { ipEndpoints: true },
  EDS: { ipEndpoints: true },
  STRICT_DNS: { ipEndpoints: false },
  LOGICAL_DNS: { ipEndpoints: false },
};

export function compileCluster(c: Cluster, field: string): CompiledCluster {
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
  const cb = c.circuitBreakers;
  return Object.freeze({
    name: c.name,
    type: c.type,
    endpoints: Object.freeze([...c.endpoints]),
    connectTimeoutMs: c.connectTimeoutMs,
    picker: createPicker(c.lbPolicy),
    breaker: new CircuitBreaker(cb),
    maxConnections: cb?.maxConnections,
    metadata: c.metadata,
  });
}
