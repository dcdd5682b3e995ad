// Walks a ProxyConfig the way the data plane does, for simulation tests: listener -> route config -> virtual host
// -> first matching route -> weighted cluster -> cluster -> endpoints. No I/O: it reports where a request goes.
import type {
  Cluster,
  Endpoint,
  HeaderMatcher,
  ProxyConfig,
  Route,
  RouteConfig,
  StringMatcher,
  VirtualHost,
} from '../../proxy-config/types.js';

export interface SimRequest {
  /** Sidecar: the destination port the client dialed. Gateway: the port it connected to (the bound target port). */
  readonly port: number;
  /** The Host header, optionally with ":port". */
  readonly host: string;
  readonly path?: string;
  readonly method?: string;
  readonly scheme?: string;
  /** Lower-case names. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Which weighted cluster to take: a point in [0, total weight); default 0 (the first with weight). */
  readonly pick?: number;
}

export type SimOutcome = 'forward' | 'direct' | 'redirect' | 'refused';

export interface SimResult {
  readonly outcome: SimOutcome;
  readonly listener?: string;
  readonly routeConfig?: string;
  readonly virtualHost?: string;
  readonly route?: string;
  readonly cluster?: string;
  /** Set for answers the proxy gives itself (direct, redirect, NR, NC, UH). */
  readonly status?: number;
  readonly responseFlags: 'NR' | 'NC' | 'UH' | '-';
  readonly details: string;
  /** Forwarded: where to (ORIGINAL_DST: the request's own host and port). */
  readonly upstream?: Endpoint;
  readonly location?: string;
}

function hostOnly(host: string): string {
  const h = host.toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon >= 0 && /^\d+$/.test(h.slice(colon + 1)) ? h.slice(0, colon) : h;
}

/** Envoy's order: exact domains, then suffix wildcards longest first, then "*". */
export function selectVirtualHost(rc: RouteConfig, host: string): VirtualHost | undefined {
  const h = hostOnly(host);
  const exact = rc.virtualHosts.find((vh) => vh.domains.includes(h));
  if (exact) return exact;
  let best: { vh: VirtualHost; len: number } | undefined;
  for (const vh of rc.virtualHosts) {
    for (const d of vh.domains) {
      if (d === '*' || !d.startsWith('*')) continue;
      const suffix = d.slice(1);
      if (h.length > suffix.length && h.endsWith(suffix) && (!best || suffix.length > best.len))
        best = { vh, len: suffix.length };
    }
  }
  return best?.vh ?? rc.virtualHosts.find((vh) => vh.domains.includes('*'));
}

function stringMatches(m: StringMatcher, value: string | undefined): boolean {
  if (value === undefined) return false;
  switch (m.kind) {
    case 'present':
      return true;
    case 'exact':
      return m.ignoreCase ? value.toLowerCase() === m.value.toLowerCase() : value === m.value;
    case 'prefix':
      return m.ignoreCase ? value.toLowerCase().startsWith(m.value.toLowerCase()) : value.startsWith(m.value);
    case 'regex':
      return new RegExp(`^(?:${m.value})$`).test(value);
  }
}

function headerValue(req: SimRequest, name: string): string | undefined {
  if (name === ':method') return req.method ?? 'GET';
  if (name === ':authority') return req.host;
  if (name === ':scheme') return req.scheme ?? 'http';
  if (name === ':path') return req.path ?? '/';
  return req.headers?.[name];
}

function headerMatches(h: HeaderMatcher, req: SimRequest): boolean {
  const ok = stringMatches(h.match, headerValue(req, h.name));
  return h.invert ? !ok : ok;
}

export function routeMatches(route: Route, req: SimRequest): boolean {
  const full = req.path ?? '/';
  const q = full.indexOf('?');
  const path = q >= 0 ? full.slice(0, q) : full;
  const query = new URLSearchParams(q >= 0 ? full.slice(q + 1) : '');
  const m = route.match;
  if (m.path && !stringMatches(m.path, path)) return false;
  if (!m.headers.every((h) => headerMatches(h, req))) return false;
  return m.queryParams.every((p) => stringMatches(p.match, query.get(p.name) ?? undefined));
}

function pickCluster(route: Route, pick: number): string | undefined {
  if (route.action.kind !== 'cluster') return undefined;
  let acc = 0;
  for (const wc of route.action.clusters) {
    acc += wc.weight;
    if (wc.weight > 0 && pick < acc) return wc.cluster;
  }
  return route.action.clusters.find((wc) => wc.weight > 0)?.cluster;
}

function forward(config: ProxyConfig, route: Route, req: SimRequest, base: Partial<SimResult>): SimResult {
  const name = pickCluster(route, req.pick ?? 0);
  const cluster: Cluster | undefined = config.clusters.find((c) => c.name === name);
  const at = { ...base, route: route.name, ...(name !== undefined ? { cluster: name } : {}) };
  if (!cluster) return { ...at, outcome: 'direct', status: 503, responseFlags: 'NC', details: 'cluster_not_found' };
  if (cluster.type === 'ORIGINAL_DST') {
    return {
      ...at,
      outcome: 'forward',
      responseFlags: '-',
      details: 'via_upstream',
      upstream: { address: hostOnly(req.host), port: req.port },
    };
  }
  const ep = cluster.endpoints[0];
  if (!ep) return { ...at, outcome: 'direct', status: 503, responseFlags: 'UH', details: 'no_healthy_upstream' };
  return { ...at, outcome: 'forward', responseFlags: '-', details: 'via_upstream', upstream: ep };
}

function runRoute(config: ProxyConfig, route: Route, req: SimRequest, base: Partial<SimResult>): SimResult {
  const a = route.action;
  switch (a.kind) {
    case 'cluster':
      return forward(config, route, req, base);
    case 'direct':
      return {
        ...base,
        route: route.name,
        outcome: 'direct',
        status: a.status,
        responseFlags: '-',
        details: 'direct_response',
      };
    case 'redirect': {
      const scheme = a.scheme ?? req.scheme ?? 'http';
      const host = a.host ?? hostOnly(req.host);
      const location = `${scheme}://${host}${a.port !== undefined ? `:${a.port}` : ''}${a.path ?? req.path ?? '/'}`;
      return {
        ...base,
        route: route.name,
        outcome: 'redirect',
        status: a.status,
        responseFlags: '-',
        details: 'direct_response',
        location,
      };
    }
  }
}

const NOT_FOUND = { outcome: 'direct', status: 404, responseFlags: 'NR', details: 'route_not_found' } as const;

export function simulate(config: ProxyConfig, req: SimRequest): SimResult {
  let rc: RouteConfig | undefined;
  let listenerName: string;
  const sidecar = config.listeners.find((l) => l.kind === 'sidecar-outbound');
  if (sidecar && sidecar.kind === 'sidecar-outbound') {
    listenerName = sidecar.name;
    rc = config.routeConfigs.find((r) => r.name === String(req.port));
    if (!rc) return runRoute(config, sidecar.defaultRoute, req, { listener: listenerName });
  } else {
    const l = config.listeners.find((x) => x.kind === 'gateway-http' && x.port === req.port);
    if (l?.kind !== 'gateway-http') return { outcome: 'refused', responseFlags: '-', details: 'no_listener' };
    listenerName = l.name;
    rc = config.routeConfigs.find((r) => r.name === l.routeConfigName);
    if (!rc) return { ...NOT_FOUND, listener: listenerName };
  }
  const base = { listener: listenerName, routeConfig: rc.name };
  const vh = selectVirtualHost(rc, req.host);
  if (!vh) return { ...NOT_FOUND, ...base };
  const route = vh.routes.find((r) => routeMatches(r, req));
  if (!route) return { ...NOT_FOUND, ...base, virtualHost: vh.name };
  return runRoute(config, route, req, { ...base, virtualHost: vh.name });
}
