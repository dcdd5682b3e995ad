import type { HeaderOperations, HTTPMatchRequest, HTTPRoute, Resource } from '../model/index.js';
import type { HeaderMutation, Route, RouteAction, WeightedCluster } from '../proxy-config/types.js';
import { labelsMatch } from '../snapshot/index.js';
import { destinationCluster, type RouteContext } from './context.js';
import { effectiveHttpRules } from './delegation.js';
import { isCatchAll, toRouteMatch } from './match.js';
import { vsRouteName } from './names.js';
import { retryPolicy } from './retry.js';

/**
 * Translation-time filters of one match (pilot's sourceMatchHTTP plus the port filter): the port must be the
 * route config's; match-level gateways, when given, must name this proxy's gateway and then source selectors are
 * not evaluated; otherwise sourceLabels/sourceNamespace must select this proxy.
 */
export function matchApplies(
  m: Pick<HTTPMatchRequest, 'port' | 'gateways' | 'sourceLabels' | 'sourceNamespace'>,
  ctx: RouteContext,
): boolean {
  if (m.port !== undefined && m.port !== ctx.port) return false;
  if (m.gateways.length > 0) return m.gateways.includes(ctx.gateway);
  if (!labelsMatch(m.sourceLabels, ctx.node.labels)) return false;
  return m.sourceNamespace === undefined || m.sourceNamespace === ctx.node.namespace;
}

/**
 * A VirtualService's header operations for the route. Values are Envoy header formatters, in which %% is a literal
 * %: they reach the proxy as the text to send. (An Envoy %VARIABLE% is sent as written; validation warns of it.)
 */
export function headerMutation(ops: HeaderOperations | undefined): HeaderMutation | undefined {
  if (!ops) return undefined;
  const literal = ([name, value]: [string, string]): [string, string] => [name, value.replaceAll('%%', '%')];
  const set = Object.entries(ops.set).map(literal);
  const add = Object.entries(ops.add).map(literal);
  if (set.length === 0 && add.length === 0 && ops.remove.length === 0) return undefined;
  return { set, add, remove: ops.remove };
}

function redirectPort(h: HTTPRoute): number | undefined {
  const r = h.redirect;
  if (!r) return undefined;
  if (r.port !== undefined) return r.port;
  if (r.derivePort === 'FROM_PROTOCOL_DEFAULT') return r.scheme === 'https' ? 443 : 80;
  return undefined;
}

function routeAction(h: HTTPRoute, namespace: string, ctx: RouteContext): RouteAction | undefined {
  if (h.redirect) {
    const r = h.redirect;
    const port = redirectPort(h);
    return {
      kind: 'redirect',
      status: r.redirectCode,
      ...(r.scheme !== undefined ? { scheme: r.scheme } : {}),
      ...(r.authority !== undefined ? { host: r.authority } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(r.uri !== undefined ? { path: r.uri } : {}),
    };
  }
  if (h.directResponse) {
    const d = h.directResponse;
    return { kind: 'direct', status: d.status, ...(d.body !== undefined ? { body: d.body } : {}) };
  }
  // A delegate rule left unresolved (a delegate's own delegate) yields no route.
  if (h.route.length === 0) return undefined;
  const clusters: WeightedCluster[] = h.route.map((rd) => {
    const req = headerMutation(rd.headers?.request);
    const res = headerMutation(rd.headers?.response);
    return {
      cluster: destinationCluster(rd.destination, namespace, ctx),
      weight: rd.weight,
      ...(req ? { requestHeaders: req } : {}),
      ...(res ? { responseHeaders: res } : {}),
    };
  });
  const retry = retryPolicy(h.retries);
  const rw = h.rewrite;
  return {
    kind: 'cluster',
    clusters,
    ...(h.timeoutMs !== undefined ? { timeoutMs: h.timeoutMs } : {}),
    ...(retry ? { retry } : {}),
    ...(rw?.uri !== undefined ? { prefixRewrite: rw.uri } : {}),
    ...(rw?.uriRegexRewrite
      ? { regexRewrite: { pattern: rw.uriRegexRewrite.match, substitution: rw.uriRegexRewrite.rewrite } }
      : {}),
    ...(rw?.authority !== undefined ? { hostRewrite: rw.authority } : {}),
  };
}

function buildRoute(
  h: HTTPRoute,
  m: HTTPMatchRequest | undefined,
  action: RouteAction,
  mirrorNamespace: string,
  ctx: RouteContext,
): Route {
  const req = headerMutation(h.headers?.request);
  const res = headerMutation(h.headers?.response);
  return {
    name: vsRouteName(h.name, m?.name),
    match: toRouteMatch(m),
    action,
    ...(req ? { requestHeaders: req } : {}),
    ...(res ? { responseHeaders: res } : {}),
    ...(h.fault ? { fault: h.fault } : {}),
    ...(h.mirror
      ? {
          mirror: {
            cluster: destinationCluster(h.mirror, mirrorNamespace, ctx),
            percentage: h.mirrorPercentage ?? 100,
          },
        }
      : {}),
  };
}

/**
 * One VirtualService's http rules (delegation resolved) as routes for one proxy and port: one route per
 * applicable match (matches are OR-ed), a rule without matches matches everything, and everything after the
 * first catch-all is dropped.
 */
export function translateHttpRoutes(vs: Resource<'VirtualService'>, ctx: RouteContext): Route[] {
  const out: Route[] = [];
  for (const { rule: h, namespace, mirrorNamespace } of effectiveHttpRules(vs, ctx.snapshot)) {
    const action = routeAction(h, namespace, ctx);
    if (!action) continue;
    const matches: (HTTPMatchRequest | undefined)[] =
      h.match.length === 0 ? [undefined] : h.match.filter((m) => matchApplies(m, ctx));
    for (const m of matches) {
      const route = buildRoute(h, m, action, mirrorNamespace, ctx);
      out.push(route);
      if (isCatchAll(route.match)) return out;
    }
  }
  return out;
}
