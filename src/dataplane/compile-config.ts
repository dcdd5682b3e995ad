// A pushed ProxyConfig, validated and compiled once. Throws ConfigError naming the field at fault; on success the
// result is frozen and can be swapped in with a single reference assignment.
import { isIP } from 'node:net';
import { compileLogFormat, type LineFormat } from '../observability/index.js';
import type { AccessLogConfig, Listener, ProxyConfig } from '../proxy-config/types.js';
import { compileCluster, type CompiledCluster } from './compile-clusters.js';
import {
  compileRoute,
  compileRouteConfig,
  type CompiledRoute,
  type CompiledRouteConfig,
  type Random,
} from './compile-routes.js';
import { ConfigError } from './errors.js';
import { assertNever } from './matchers.js';
import { compileFilterChain, FilterChainTable } from './network/filter-chains.js';
import { compilePathNormalizer } from './path-normalization.js';
import type { TlsMaterials } from './network/tls-contexts.js';

export type CompiledListener =
  | {
      readonly kind: 'sidecar-outbound';
      readonly name: string;
      readonly address: string;
      readonly port: number;
      readonly defaultRoute: CompiledRoute;
      /** CONNECT tunnels, by destination port, destination, SNI and transport; the default chain takes the rest. */
      readonly chains: FilterChainTable;
    }
  | {
      readonly kind: 'gateway-http';
      readonly name: string;
      readonly address: string;
      readonly port: number;
      readonly servicePort: number;
      readonly routeConfigName: string;
    }
  | {
      readonly kind: 'gateway-network';
      readonly name: string;
      readonly address: string;
      readonly port: number;
      readonly servicePort: number;
      readonly chains: FilterChainTable;
    };

export interface CompiledAccessLog extends AccessLogConfig {
  /** meshConfig.accessLogFormat compiled for the encoding; absent: Istio's default format for it. */
  readonly line?: LineFormat;
}

export interface CompiledConfig {
  readonly version: string;
  /** The request path as routed and forwarded; undefined when it cannot be normalized (400). */
  readonly normalizePath: (path: string) => string | undefined;
  readonly accessLog: CompiledAccessLog;
  readonly listeners: ReadonlyMap<string, CompiledListener>;
  readonly routeConfigs: ReadonlyMap<string, CompiledRouteConfig>;
  readonly clusters: ReadonlyMap<string, CompiledCluster>;
}

/**
 * `now`: the clock outlier detection reads. `random`: the draws of weighted cluster picks, of the RANDOM and
 * LEAST_REQUEST balancers, of retry back-off jitter and of fault and mirror percentages, injected beside the clock
 * so that tests (and `routeRequest`) are deterministic. `privateKey`: the
 * key of the proxy's mesh identity, which the proxy holds itself and joins here with the certificate the config
 * carries.
 */
export function compileConfig(
  config: ProxyConfig,
  now: () => number = Date.now,
  random: Random = Math.random,
  privateKey?: string,
  trustedCas: readonly string[] = [],
): CompiledConfig {
  if (typeof config.version !== 'string') throw new ConfigError('version', 'must be a string');
  const encoding = config.accessLog?.encoding;
  if (encoding !== 'JSON' && encoding !== 'TEXT') {
    throw new ConfigError('accessLog.encoding', `must be JSON or TEXT, not ${JSON.stringify(encoding)}`);
  }
  const format = config.accessLog.format;
  let line: LineFormat | undefined;
  if (format !== undefined) {
    const compiled = typeof format === 'string' ? compileLogFormat(format, encoding) : { message: 'must be a string' };
    if ('message' in compiled) throw new ConfigError('accessLog.format', compiled.message);
    line = compiled.format;
  }
  const id = config.identity;
  const materials: TlsMaterials = {
    ...(id && privateKey !== undefined
      ? { identity: { certificateChain: id.certificateChain, trustedCa: id.trustedCa, privateKey } }
      : {}),
    ...(trustedCas.length > 0 ? { extraTrustedCas: trustedCas } : {}),
  };
  const listeners = new Map<string, CompiledListener>();
  const bound = new Map<string, string>();
  config.listeners.forEach((l, i) => {
    const field = `listeners[${i}] (${l.name})`;
    if (listeners.has(l.name)) throw new ConfigError(`${field}.name`, 'duplicate listener name');
    checkPort(l.port, `${field}.port`, true);
    if (isIP(l.address) === 0) throw new ConfigError(`${field}.address`, `${JSON.stringify(l.address)} is not an IP`);
    const key = `${l.address}:${l.port}`;
    if (l.port !== 0 && bound.has(key)) {
      throw new ConfigError(`${field}.port`, `${key} is also bound by listener ${bound.get(key)}`);
    }
    bound.set(key, l.name);
    listeners.set(l.name, compileListener(l, field, random, materials));
  });

  const routeConfigs = new Map<string, CompiledRouteConfig>();
  config.routeConfigs.forEach((rc, i) => {
    const field = `routeConfigs[${i}] (${rc.name})`;
    if (routeConfigs.has(rc.name)) throw new ConfigError(`${field}.name`, 'duplicate route config name');
    routeConfigs.set(rc.name, compileRouteConfig(rc, field, random));
  });

  const clusters = new Map<string, CompiledCluster>();
  config.clusters.forEach((c, i) => {
    const field = `clusters[${i}] (${c.name})`;
    if (clusters.has(c.name)) throw new ConfigError(`${field}.name`, 'duplicate cluster name');
    clusters.set(c.name, compileCluster(c, field, now, materials, random));
  });

  const normalization = config.pathNormalization ?? 'BASE';
  if (!['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'].includes(normalization)) {
    throw new ConfigError('pathNormalization', `unknown mode ${JSON.stringify(normalization)}`);
  }
  return Object.freeze({
    version: config.version,
    normalizePath: compilePathNormalizer(normalization),
    accessLog: Object.freeze({ ...config.accessLog, ...(line ? { line } : {}) }),
    listeners,
    routeConfigs,
    clusters,
  });
}

function compileListener(l: Listener, field: string, random: Random, materials: TlsMaterials): CompiledListener {
  switch (l.kind) {
    case 'sidecar-outbound': {
      const fallback = compileFilterChain(l.defaultFilterChain, `${field}.defaultFilterChain`, materials, random);
      return Object.freeze({
        kind: l.kind,
        name: l.name,
        address: l.address,
        port: l.port,
        defaultRoute: compileRoute(l.defaultRoute, `${field}.defaultRoute`, random),
        chains: new FilterChainTable(l.filterChains, `${field}.filterChains`, materials, fallback, random),
      });
    }
    case 'gateway-network':
      checkPort(l.servicePort, `${field}.servicePort`, false);
      return Object.freeze({
        kind: l.kind,
        name: l.name,
        address: l.address,
        port: l.port,
        servicePort: l.servicePort,
        chains: new FilterChainTable(l.filterChains, `${field}.filterChains`, materials, undefined, random),
      });
    case 'gateway-http':
      checkPort(l.servicePort, `${field}.servicePort`, false);
      if (!l.routeConfigName) throw new ConfigError(`${field}.routeConfigName`, 'must not be empty');
      return Object.freeze({
        kind: l.kind,
        name: l.name,
        address: l.address,
        port: l.port,
        servicePort: l.servicePort,
        routeConfigName: l.routeConfigName,
      });
    default:
      return assertNever(l, `${field}.kind`);
  }
}

function checkPort(port: number, field: string, allowZero: boolean): void {
  if (!Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw new ConfigError(field, `${port} is not a valid port`);
  }
}
