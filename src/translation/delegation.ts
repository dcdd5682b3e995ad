import type { HTTPMatchRequest, HTTPRoute, Resource, StringMatch } from '../model/index.js';
import type { Snapshot } from '../snapshot/index.js';
import { isExportedTo } from '../snapshot/index.js';

/**
 * One http rule as routes are built from it, with the namespaces its short destination names are relative to:
 * a delegate's own rules resolve in the delegate's namespace, what they inherit from the root in the root's.
 */
export interface EffectiveHttpRule {
  readonly rule: HTTPRoute;
  readonly namespace: string;
  readonly mirrorNamespace: string;
}

const cache = new WeakMap<Snapshot, WeakMap<Resource<'VirtualService'>, readonly EffectiveHttpRule[]>>();

/**
 * A VirtualService's http rules with delegation resolved (pilot's mergeVirtualServicesIfNeeded /
 * mergeHTTPRoutes): a rule with `delegate` is replaced by the delegate's rules, each refined by the root rule's
 * matches; a delegate that is missing, not exported to the root's namespace, or whose rule conflicts with the
 * root's matches contributes nothing for that rule. One level only: a delegate's own `delegate` yields no route.
 */
export function effectiveHttpRules(vs: Resource<'VirtualService'>, snapshot: Snapshot): readonly EffectiveHttpRule[] {
  let perSnapshot = cache.get(snapshot);
  if (!perSnapshot) cache.set(snapshot, (perSnapshot = new WeakMap()));
  const hit = perSnapshot.get(vs);
  if (hit) return hit;
  const ns = vs.meta.namespace;
  const out: EffectiveHttpRule[] = [];
  for (const rule of vs.spec.http) {
    if (!rule.delegate) {
      out.push({ rule, namespace: ns, mirrorNamespace: ns });
      continue;
    }
    const child = snapshot.virtualServices.delegate(rule.delegate.namespace, rule.delegate.name);
    if (!child || !isExportedTo(child.spec.exportTo, child.meta.namespace, ns)) continue;
    for (const sub of child.spec.http) {
      const merged = mergeRoute(rule, sub);
      if (!merged) continue;
      out.push({
        rule: merged,
        namespace: child.meta.namespace,
        mirrorNamespace: sub.mirror ? child.meta.namespace : ns,
      });
    }
  }
  perSnapshot.set(vs, out);
  return out;
}

/** The child rule refined by the root's: merged matches, and the root's settings where the child has none. */
function mergeRoute(root: HTTPRoute, child: HTTPRoute): HTTPRoute | undefined {
  const match = mergeMatches(root.match, child.match);
  if (!match) return undefined;
  const name = joinNames(root.name, child.name);
  const rewrite = child.rewrite ?? root.rewrite;
  const timeoutMs = child.timeoutMs ?? root.timeoutMs;
  const retries = child.retries ?? root.retries;
  const fault = child.fault ?? root.fault;
  const mirror = child.mirror ?? root.mirror;
  const mirrorPercentage = child.mirrorPercentage ?? root.mirrorPercentage;
  const headers = child.headers ?? root.headers;
  return {
    ...child,
    match,
    ...(name !== undefined ? { name } : {}),
    ...(rewrite ? { rewrite } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(retries ? { retries } : {}),
    ...(fault ? { fault } : {}),
    ...(mirror ? { mirror } : {}),
    ...(mirrorPercentage !== undefined ? { mirrorPercentage } : {}),
    ...(headers ? { headers } : {}),
  };
}

function joinNames(root: string | undefined, child: string | undefined): string | undefined {
  if (!child) return root;
  return root ? `${root}-${child}` : child;
}

/** Every child match must refine at least one root match; otherwise the child rule is dropped (undefined). */
function mergeMatches(
  root: readonly HTTPMatchRequest[],
  child: readonly HTTPMatchRequest[],
): HTTPMatchRequest[] | undefined {
  if (root.length === 0) return [...child];
  if (child.length === 0) return [...root];
  const out: HTTPMatchRequest[] = [];
  for (const leaf of child) {
    const refined = root.filter((r) => !matchConflict(r, leaf)).map((r) => mergeMatch(r, leaf));
    if (refined.length === 0) return undefined;
    out.push(...refined);
  }
  return out;
}

function mergeMatch(root: HTTPMatchRequest, leaf: HTTPMatchRequest): HTTPMatchRequest {
  const name = joinNames(root.name, leaf.name);
  const uri = leaf.uri ?? root.uri;
  const scheme = leaf.scheme ?? root.scheme;
  const method = leaf.method ?? root.method;
  const authority = leaf.authority ?? root.authority;
  const port = leaf.port ?? root.port;
  const sourceNamespace = leaf.sourceNamespace ?? root.sourceNamespace;
  return {
    ...(name !== undefined ? { name } : {}),
    ...(uri ? { uri } : {}),
    ...(scheme ? { scheme } : {}),
    ...(method ? { method } : {}),
    ...(authority ? { authority } : {}),
    headers: { ...root.headers, ...leaf.headers },
    withoutHeaders: { ...root.withoutHeaders, ...leaf.withoutHeaders },
    queryParams: { ...root.queryParams, ...leaf.queryParams },
    ignoreUriCase: leaf.ignoreUriCase,
    ...(port !== undefined ? { port } : {}),
    gateways: leaf.gateways.length > 0 ? leaf.gateways : root.gateways,
    sourceLabels: { ...root.sourceLabels, ...leaf.sourceLabels },
    ...(sourceNamespace !== undefined ? { sourceNamespace } : {}),
  };
}

/** Pilot's hasConflict: the leaf cannot be a refinement of the root. */
function matchConflict(root: HTTPMatchRequest, leaf: HTTPMatchRequest): boolean {
  if (stringConflict(root.uri, leaf.uri) || stringConflict(root.scheme, leaf.scheme)) return true;
  if (stringConflict(root.method, leaf.method) || stringConflict(root.authority, leaf.authority)) return true;
  for (const [k, v] of Object.entries(leaf.headers)) if (stringConflict(root.headers[k], v)) return true;
  for (const [k, v] of Object.entries(leaf.withoutHeaders)) if (stringConflict(root.withoutHeaders[k], v)) return true;
  for (const [k, v] of Object.entries(leaf.queryParams)) if (stringConflict(root.queryParams[k], v)) return true;
  if (root.ignoreUriCase !== leaf.ignoreUriCase) return true;
  if (root.port !== undefined && leaf.port !== undefined && root.port !== leaf.port) return true;
  if (root.sourceNamespace !== undefined && leaf.sourceNamespace !== root.sourceNamespace) return true;
  for (const [k, v] of Object.entries(leaf.sourceLabels)) {
    const rv = root.sourceLabels[k];
    if (rv !== undefined && rv !== v) return true;
  }
  if (root.gateways.length > 0 && leaf.gateways.length > 0) {
    const rootGateways = new Set(root.gateways);
    if (!leaf.gateways.every((g) => rootGateways.has(g))) return true;
  }
  return false;
}

/**
 * Pilot's stringMatchConflict: no conflict when either side is unset; a regex on one side conflicts with any
 * value on the other; an exact root admits only the same exact leaf; a prefix root admits a prefix or exact leaf
 * that starts with it; anything else conflicts. An empty value counts as unset, as a proto oneof would read.
 */
function stringConflict(root: StringMatch | undefined, leaf: StringMatch | undefined): boolean {
  if (!root || !leaf) return false;
  const rootSet = root.value !== '';
  const leafSet = leaf.value !== '';
  if (root.kind === 'regex' && rootSet && leafSet) return true;
  if (leaf.kind === 'regex' && leafSet && rootSet) return true;
  if (root.kind === 'exact' && rootSet) {
    if (leaf.kind === 'prefix' && leafSet) return true;
    return !(leaf.kind === 'exact' && leaf.value === root.value);
  }
  if (root.kind === 'prefix' && rootSet) {
    if ((leaf.kind === 'prefix' || leaf.kind === 'exact') && leafSet) return !leaf.value.startsWith(root.value);
  }
  return true;
}
