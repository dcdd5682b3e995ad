// Hand-built proxy configs and a tiny upstream/client toolkit for the data plane's tests.
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import type {
  Cluster,
  ClusterType,
  Endpoint,
  FilterChain,
  FilterChainMatch,
  NodeIdentity,
  ProxyConfig,
  Route,
  RouteConfig,
  RouteMatch,
  VirtualHost,
} from '../../proxy-config/types.js';
import type { AccessLogRecord } from '../../observability/index.js';
import { eventually } from '../../../test/helpers/eventually.js';
import { DataPlane, type DataPlaneOptions } from '../data-plane.js';
import type { HostResolver } from '../resolver.js';

export function testNode(ip = '127.0.0.1', type: NodeIdentity['type'] = 'sidecar'): NodeIdentity {
  return {
    id: `${type}~${ip}~sleep.default~default.svc.cluster.local`,
    type,
    name: type === 'sidecar' ? 'sleep' : 'istio-egressgateway',
    namespace: type === 'sidecar' ? 'default' : 'istio-system',
    ip,
    labels: {},
    serviceAccount: 'default',
  };
}

export const anyMatch: RouteMatch = { headers: [], queryParams: [] };

export const allowAny: Route = {
  name: 'allow_any',
  match: anyMatch,
  action: { kind: 'cluster', clusters: [{ cluster: 'PassthroughCluster', weight: 100 }] },
};

export const blockAll: Route = { name: 'block_all', match: anyMatch, action: { kind: 'direct', status: 502 } };

export function clusterRoute(name: string, cluster: string, extra: Partial<Route> = {}): Route {
  return { name, match: anyMatch, action: { kind: 'cluster', clusters: [{ cluster, weight: 100 }] }, ...extra };
}

export function vhost(name: string, domains: string[], routes: Route[]): VirtualHost {
  return { name, domains, routes };
}

export function cluster(
  name: string,
  type: ClusterType,
  endpoints: Endpoint[] = [],
  extra: Partial<Cluster> = {},
): Cluster {
  return {
    name,
    type,
    endpoints,
    connectTimeoutMs: 1000,
    lbPolicy: 'ROUND_ROBIN',
    metadata: { serviceName: name },
    ...extra,
  };
}

export const passthroughCluster = cluster('PassthroughCluster', 'ORIGINAL_DST');

export function tcpChain(name: string, match: FilterChainMatch, clusterName: string): FilterChain {
  return { name, match, filter: { kind: 'tcp-proxy', clusters: [{ cluster: clusterName, weight: 100 }] } };
}

export const passthroughChain = tcpChain('PassthroughFilterChain', {}, 'PassthroughCluster');
export const blackholeChain = tcpChain('PassthroughFilterChain', {}, 'BlackHoleCluster');
export const blackholeCluster = cluster('BlackHoleCluster', 'STATIC');

export interface ConfigParts {
  version?: string;
  defaultRoute?: Route;
  routeConfigs?: RouteConfig[];
  clusters?: Cluster[];
  encoding?: 'JSON' | 'TEXT';
  logEnabled?: boolean;
  address?: string;
  port?: number;
  filterChains?: FilterChain[];
  defaultFilterChain?: FilterChain;
}

export function sidecarConfig(p: ConfigParts = {}, node = testNode()): ProxyConfig {
  return {
    version: p.version ?? 'v1',
    node,
    listeners: [
      {
        kind: 'sidecar-outbound',
        name: 'virtualOutbound',
        address: p.address ?? '127.0.0.1',
        port: p.port ?? 0,
        defaultRoute: p.defaultRoute ?? allowAny,
        filterChains: p.filterChains ?? [],
        defaultFilterChain: p.defaultFilterChain ?? passthroughChain,
      },
    ],
    routeConfigs: p.routeConfigs ?? [],
    clusters: p.clusters ?? [passthroughCluster, blackholeCluster],
    accessLog: { enabled: p.logEnabled ?? true, path: '/dev/stdout', encoding: p.encoding ?? 'JSON' },
  };
}

export function gatewayConfig(p: ConfigParts & { servicePort?: number } = {}): ProxyConfig {
  const servicePort = p.servicePort ?? 80;
  return {
    version: p.version ?? 'v1',
    node: testNode('127.0.0.1', 'router'),
    listeners: [
      {
        kind: 'gateway-http',
        name: '0.0.0.0_8080',
        address: p.address ?? '127.0.0.1',
        port: p.port ?? 0,
        servicePort,
        routeConfigName: `http.${servicePort}`,
      },
    ],
    routeConfigs: p.routeConfigs ?? [],
    clusters: p.clusters ?? [],
    accessLog: { enabled: p.logEnabled ?? true, path: '/dev/stdout', encoding: p.encoding ?? 'JSON' },
  };
}

/** Resolves names from a fixed table; unknown names fail like NXDOMAIN. Counts lookups. */
export function fakeResolver(table: Record<string, string[]>): HostResolver & { lookups: string[] } {
  const lookups: string[] = [];
  return {
    lookups,
    async resolve(hostname) {
      lookups.push(hostname);
      const hit = table[hostname];
      if (!hit) throw Object.assign(new Error(`queryA ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      return hit;
    },
  };
}

export interface Upstream {
  readonly port: number;
  readonly seen: { method: string; url: string; headers: IncomingHttpHeaders; remoteAddress: string; body: string }[];
  close(): Promise<void>;
}

export async function startUpstream(
  handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('hello'),
  host = '127.0.0.1',
): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        remoteAddress: req.socket.remoteAddress ?? '',
        body: Buffer.concat(chunks).toString(),
      });
      handler(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request to the proxy on a fresh connection. `target` is a path or an absolute URL. */
export function send(
  port: number,
  target: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: opts.method ?? 'GET', path: target, headers: opts.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export interface Harness {
  readonly plane: DataPlane;
  readonly logs: { line: string; record: AccessLogRecord }[];
  readonly warnings: string[];
  port(name?: string): number;
  /** Waits until `n` access-log lines were written (they are written when the response is over). */
  waitForLogs(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startPlane(
  config: ProxyConfig,
  options: Partial<DataPlaneOptions> = {},
  node = config.node,
): Promise<Harness> {
  const logs: Harness['logs'] = [];
  const warnings: string[] = [];
  const plane = new DataPlane(node, {
    resolver: fakeResolver({}),
    onAccessLog: (line, record) => logs.push({ line, record }),
    onWarning: (m) => warnings.push(m),
    ...options,
  });
  const result = await plane.apply(config);
  if (!result.ok) throw new Error(result.error);
  return {
    plane,
    // The plane writes a line a little after its request completed; a test reads the lines of every request
    // completed so far.
    get logs() {
      plane.flushAccessLog();
      return logs;
    },
    warnings,
    port(name) {
      const l = name ? plane.listenerAddresses.find((a) => a.name === name) : plane.listenerAddresses[0];
      if (!l) throw new Error(`no listener ${name ?? ''}`);
      return l.port;
    },
    async waitForLogs(n) {
      await eventually(
        () => {
          plane.flushAccessLog();
          return logs.length >= n ? true : undefined;
        },
        2_000,
        `${n} access-log lines (got ${logs.length})`,
      );
    },
    close: () => plane.close(),
  };
}

/** Writes raw bytes on a new connection and resolves with everything the proxy sent once it ends the connection. */
export function sendRaw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let data = '';
    socket.on('data', (c) => (data += c.toString()));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}
