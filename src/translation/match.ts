import type { HTTPMatchRequest, StringMatch } from '../model/index.js';
import type { HeaderMatcher, QueryParamMatcher, RouteMatch, StringMatcher } from '../proxy-config/types.js';

function matcher(m: StringMatch, ignoreCase = false): StringMatcher {
  if (m.kind === 'regex') return { kind: 'regex', value: m.value };
  return ignoreCase ? { kind: m.kind, value: m.value, ignoreCase: true } : { kind: m.kind, value: m.value };
}

/** Header matchers: an empty exact value means "present" (the model's normalization of `{}`). */
function headerMatcher(m: StringMatch): StringMatcher {
  return m.kind === 'exact' && m.value === '' ? { kind: 'present' } : matcher(m);
}

function sortedEntries<T>(r: Readonly<Record<string, T>>): [string, T][] {
  return Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The request-time part of a match; port, gateways and source selectors are applied at translation time. */
export function toRouteMatch(m: HTTPMatchRequest | undefined): RouteMatch {
  if (!m) return { path: { kind: 'prefix', value: '/' }, headers: [], queryParams: [] };
  const headers: HeaderMatcher[] = [];
  if (m.method) headers.push({ name: ':method', match: matcher(m.method), invert: false });
  if (m.authority) headers.push({ name: ':authority', match: matcher(m.authority), invert: false });
  if (m.scheme) headers.push({ name: ':scheme', match: matcher(m.scheme), invert: false });
  for (const [name, sm] of sortedEntries(m.headers)) headers.push({ name, match: headerMatcher(sm), invert: false });
  for (const [name, sm] of sortedEntries(m.withoutHeaders))
    headers.push({ name, match: headerMatcher(sm), invert: true });
  const queryParams: QueryParamMatcher[] = sortedEntries(m.queryParams).map(([name, sm]) => ({
    name,
    match: headerMatcher(sm),
  }));
  return {
    path: m.uri ? matcher(m.uri, m.ignoreUriCase && m.uri.kind !== 'regex') : { kind: 'prefix', value: '/' },
    headers,
    queryParams,
  };
}

/** Istio's IsCatchAllRoute: any path, no header or query conditions. Rules after one are unreachable. */
export function isCatchAll(match: RouteMatch): boolean {
  if (match.headers.length > 0 || match.queryParams.length > 0) return false;
  const p = match.path;
  if (!p) return true;
  if (p.kind === 'prefix') return p.value === '/';
  if (p.kind === 'regex') return p.value === '*' || p.value === '.*';
  return false;
}
