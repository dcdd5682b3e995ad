// Route configs compiled into frozen lookup structures: per request a virtual host is found with one Map lookup
// (or a walk over the wildcard suffixes, longest first) and routes are tried in order with precompiled matchers.
import type {
  HeaderMutation,
  RetryPolicy,
  Route,
  RouteAction,
  RouteConfig,
  VirtualHost,
  WeightedCluster,
} from '../proxy-config/types.js';
import { ConfigError } from './errors.js';
import { utf8Bytes } from './http1/head-writer.js';
import { assertNever, compileRegex, type RequestTest, RouteMatchCache } from './matchers.js';

export interface CompiledRouteConfig {
  readonly name: string;
  /** `host` is lower-case and port-less. */
  findVirtualHost(host: string): CompiledVirtualHost | undefined;
}

export interface CompiledVirtualHost {
  readonly name: string;
  readonly routes: readonly CompiledRoute[];
}

/** A source of randomness in [0, 1): Math.random, or a fixed sequence in tests and explanations. */
export type Random = () => number;

export interface CompiledRoute {
  readonly name: string;
  readonly matches: RequestTest;
  readonly action: CompiledAction;
  readonly requestHeaders: HeaderMutation | undefined;
  readonly responseHeaders: HeaderMutation | undefined;
  readonly fault: CompiledFault | undefined;
  readonly mirror: CompiledMirror | undefined;
}

/** Each part `fires()` for its percentage of requests, drawn from the config's Random. */
export interface CompiledFault {
  readonly delay?: { readonly fixedDelayMs: number; readonly percentage: number; fires(): boolean };
  readonly abort?: { readonly httpStatus: number; readonly percentage: number; fires(): boolean };
}

export interface CompiledMirror {
  readonly cluster: string;
  readonly percentage: number;
  fires(): boolean;
}

export type CompiledAction = CompiledClusterAction | CompiledDirectAction | CompiledRedirectAction;

export interface CompiledClusterAction {
  readonly kind: 'cluster';
  /** Picks a weighted cluster: by weight with the config's Random, deterministic when there is one. */
  pickCluster(): WeightedCluster;
  readonly timeoutMs: number | undefined;
  readonly retry: RetryPolicy | undefined;
  /** Rewrites the path (without query); undefined when the route has no path rewrite. */
  readonly rewritePath: ((path: string) => string) | undefined;
  readonly hostRewrite: string | undefined;
}

export interface CompiledDirectAction {
  readonly kind: 'direct';
  readonly status: number;
  readonly body: string;
}

export interface CompiledRedirectAction {
  readonly kind: 'redirect';
  readonly status: number;
  readonly scheme: string | undefined;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly path: string | undefined;
}

export function compileRouteConfig(rc: RouteConfig, field: string, random: Random = Math.random): CompiledRouteConfig {
  const exact = new Map<string, CompiledVirtualHost>();
  /** "*.example.com" is keyed ".example.com". */
  const wildcards = new Map<string, CompiledVirtualHost>();
  let catchAll: CompiledVirtualHost | undefined;
  const matchers = new RouteMatchCache();
  rc.virtualHosts.forEach((vh, i) => {
    const vhField = `${field}.virtualHosts[${i}] (${vh.name})`;
    const compiled = compileVirtualHost(vh, vhField, random, matchers);
    if (vh.domains.length === 0) throw new ConfigError(`${vhField}.domains`, 'must not be empty');
    for (const raw of vh.domains) {
      const domain = raw.toLowerCase();
      // The first virtual host claiming a domain keeps it, as in Envoy (duplicates are Istio's to avoid).
      if (domain === '*') catchAll ??= compiled;
      else if (domain.startsWith('*.')) {
        if (!wildcards.has(domain.slice(1))) wildcards.set(domain.slice(1), compiled);
      } else if (domain.includes('*')) {
        throw new ConfigError(`${vhField}.domains`, `unsupported wildcard ${JSON.stringify(raw)}`);
      } else if (!exact.has(domain)) exact.set(domain, compiled);
    }
  });
  return Object.freeze({
    name: rc.name,
    /**
     * Exact name, then the most specific wildcard (the longest suffix: try ".b.example.com" before ".example.com"),
     * then "*". One map lookup per label of the host, whatever the number of wildcard domains.
     */
    findVirtualHost(host: string): CompiledVirtualHost | undefined {
      const hit = exact.get(host);
      if (hit) return hit;
      if (wildcards.size > 0) {
        for (let dot = host.indexOf('.', 1); dot > 0; dot = host.indexOf('.', dot + 1)) {
          const vhost = wildcards.get(host.slice(dot));
          if (vhost) return vhost;
        }
      }
      return catchAll;
    },
  });
}

function compileVirtualHost(
  vh: VirtualHost,
  field: string,
  random: Random,
  matchers: RouteMatchCache,
): CompiledVirtualHost {
  const routes = vh.routes.map((r, i) => compileRoute(r, `${field}.routes[${i}] (${r.name})`, random, matchers));
  return Object.freeze({ name: vh.name, routes: Object.freeze(routes) });
}

export function compileRoute(
  route: Route,
  field: string,
  random: Random = Math.random,
  matchers: RouteMatchCache = new RouteMatchCache(),
): CompiledRoute {
  return Object.freeze({
    name: route.name,
    matches: matchers.compile(route.match, `${field}.match`),
    action: compileAction(route, `${field}.action`, random),
    requestHeaders: headerMutation(route.requestHeaders),
    responseHeaders: headerMutation(route.responseHeaders),
    fault: compileFault(route.fault, random),
    mirror: compileMirror(route.mirror, `${field}.mirror`, random),
  });
}

/** True for `percentage` (0-100) of calls; no draw at all for 0 or 100. */
function gate(percentage: number, random: Random): () => boolean {
  if (percentage >= 100) return () => true;
  if (!(percentage > 0)) return () => false;
  return () => random() * 100 < percentage;
}

function compileFault(f: Route['fault'], random: Random): CompiledFault | undefined {
  if (!f || (!f.delay && !f.abort)) return undefined;
  return Object.freeze({
    ...(f.delay ? { delay: Object.freeze({ ...f.delay, fires: gate(f.delay.percentage, random) }) } : {}),
    ...(f.abort ? { abort: Object.freeze({ ...f.abort, fires: gate(f.abort.percentage, random) }) } : {}),
  });
}

function compileMirror(m: Route['mirror'], field: string, random: Random): CompiledMirror | undefined {
  if (!m) return undefined;
  if (!m.cluster) throw new ConfigError(`${field}.cluster`, 'must not be empty');
  if (!(m.percentage >= 0 && m.percentage <= 100)) throw new ConfigError(`${field}.percentage`, 'must be within 0-100');
  return m.percentage > 0 ? Object.freeze({ ...m, fires: gate(m.percentage, random) }) : undefined;
}

function compileAction(route: Route, field: string, random: Random): CompiledAction {
  const a: RouteAction = route.action;
  switch (a.kind) {
    case 'direct':
      checkStatus(a.status, 200, 599, `${field}.status`);
      return Object.freeze({ kind: 'direct', status: a.status, body: a.body ?? '' });
    case 'redirect':
      checkStatus(a.status, 300, 399, `${field}.status`);
      return Object.freeze({
        kind: 'redirect',
        status: a.status,
        scheme: optionalBytes(a.scheme),
        host: optionalBytes(a.host),
        port: a.port,
        path: optionalBytes(a.path),
      });
    case 'cluster': {
      if (a.timeoutMs !== undefined && !(a.timeoutMs >= 0)) {
        throw new ConfigError(`${field}.timeoutMs`, 'must be a non-negative number');
      }
      return Object.freeze({
        kind: 'cluster',
        pickCluster: compileClusterPicker(a.clusters.map(weightedCluster), `${field}.clusters`, random),
        // Envoy: a timeout of 0 disables the route timeout.
        timeoutMs: a.timeoutMs ? a.timeoutMs : undefined,
        retry: a.retry,
        rewritePath: compilePathRewrite(route, a, field),
        hostRewrite: optionalBytes(a.hostRewrite),
      });
    }
    default:
      return assertNever(a, field);
  }
}

// Text from the config goes into heads as its UTF-8 bytes (utf8Bytes), as Envoy sends it.

function optionalBytes(text: string | undefined): string | undefined {
  return text === undefined ? undefined : utf8Bytes(text);
}

function headerMutation(m: HeaderMutation | undefined): HeaderMutation | undefined {
  if (m === undefined) return undefined;
  const pairs = (list: readonly (readonly [string, string])[]) =>
    list.map(([name, value]) => [utf8Bytes(name), utf8Bytes(value)] as const);
  return Object.freeze({ set: pairs(m.set), add: pairs(m.add), remove: m.remove.map(utf8Bytes) });
}

function weightedCluster(c: WeightedCluster): WeightedCluster {
  if (c.requestHeaders === undefined && c.responseHeaders === undefined) return c;
  return {
    ...c,
    ...(c.requestHeaders ? { requestHeaders: headerMutation(c.requestHeaders) } : {}),
    ...(c.responseHeaders ? { responseHeaders: headerMutation(c.responseHeaders) } : {}),
  };
}

function checkStatus(status: number, min: number, max: number, field: string): void {
  if (!Number.isInteger(status) || status < min || status > max) {
    throw new ConfigError(field, `status ${status} is outside ${min}-${max}`);
  }
}

export function compileClusterPicker(
  clusters: readonly WeightedCluster[],
  field: string,
  random: Random,
): () => WeightedCluster {
  const live = clusters.filter((c) => c.weight > 0);
  if (clusters.length === 1) {
    const only = clusters[0]!;
    return () => only;
  }
  const total = live.reduce((sum, c) => sum + c.weight, 0);
  if (live.length === 0 || !Number.isFinite(total)) {
    throw new ConfigError(field, 'needs at least one cluster with a positive weight');
  }
  if (live.length === 1) {
    const only = live[0]!;
    return () => only;
  }
  const cumulative = live.map(
    (
      (sum) => (c: WeightedCluster) =>
        (sum += c.weight)
    )(0),
  );
  return () => {
    const r = random() * total;
    for (let i = 0; i < cumulative.length; i++) if (r < cumulative[i]!) return live[i]!;
    return live[live.length - 1]!;
  };
}

function compilePathRewrite(
  route: Route,
  a: Extract<RouteAction, { kind: 'cluster' }>,
  field: string,
): ((path: string) => string) | undefined {
  if (a.regexRewrite) {
    compileRegex(a.regexRewrite.pattern, `${field}.regexRewrite.pattern`);
    // Unanchored and global: RE2's GlobalReplace, which Envoy's regex_rewrite uses, replaces every match.
    const re = new RegExp(a.regexRewrite.pattern, 'g');
    const substitute = compileSubstitution(a.regexRewrite.substitution);
    return (path) => path.replace(re, (...args: unknown[]) => substitute(args));
  }
  if (a.prefixRewrite === undefined) return undefined;
  const m = route.match.path;
  // Envoy replaces the matched prefix; an exact match counts as a prefix and no path match means "/".
  const prefix = m?.kind === 'prefix' || m?.kind === 'exact' ? utf8Bytes(m.value) : '/';
  const replacement = utf8Bytes(a.prefixRewrite);
  return (path) => replacement + path.slice(prefix.length);
}

/** RE2 substitutions name groups as \1..\9; everything else is literal. */
function compileSubstitution(sub: string): (matchArgs: unknown[]) => string {
  const parts: (string | number)[] = [];
  let literal = '';
  for (let i = 0; i < sub.length; i++) {
    const c = sub[i]!;
    const next = sub[i + 1];
    if (c === '\\' && next !== undefined && /\d/.test(next)) {
      parts.push(literal, Number(next));
      literal = '';
      i++;
    } else if (c === '\\' && next === '\\') {
      literal += '\\';
      i++;
    } else literal += c;
  }
  parts.push(literal);
  for (let i = 0; i < parts.length; i++) if (typeof parts[i] === 'string') parts[i] = utf8Bytes(parts[i] as string);
  return (args) => parts.map((p) => (typeof p === 'number' ? String(args[p] ?? '') : p)).join('');
}
