// Header handling shared by the request and response paths.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { HeaderMutation } from '../proxy-config/types.js';

/** RFC 9110 §7.6.1 connection-specific headers, plus the proxy ones a proxy must not forward. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** A copy of `headers` without hop-by-hop headers, including any the Connection header names. */
export function withoutHopByHop(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const extra = connectionOptions(headers.connection);
  const out: OutgoingHttpHeaders = {};
  // Parsed headers are an own-property bag with no prototype chain to walk.
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || extra?.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * The header names a Connection header lists, beyond the hop-by-hop ones every message drops anyway. The usual
 * values (keep-alive, close, upgrade) name none: no set is made for them.
 */
function connectionOptions(named: string | undefined): ReadonlySet<string> | undefined {
  if (named === undefined) return undefined;
  const lower = named.toLowerCase();
  if (lower.indexOf(',') < 0) {
    const name = lower.trim();
    return name === '' || name === 'close' || HOP_BY_HOP.has(name) ? undefined : new Set([name]);
  }
  const names = lower.split(',');
  let extra: Set<string> | undefined;
  for (const n of names) {
    const name = n.trim();
    if (name === '' || name === 'close' || HOP_BY_HOP.has(name)) continue;
    (extra ??= new Set()).add(name);
  }
  return extra;
}

/** Envoy's order: removals first, then set (replace) and add (append). Names are lower-case. */
export function applyHeaderMutation(headers: OutgoingHttpHeaders, m: HeaderMutation | undefined): void {
  if (!m) return;
  for (const name of m.remove) delete headers[name.toLowerCase()];
  for (const [name, value] of m.set) headers[name.toLowerCase()] = value;
  for (const [rawName, value] of m.add) {
    const name = rawName.toLowerCase();
    const existing = headers[name];
    if (existing === undefined) headers[name] = value;
    else if (Array.isArray(existing)) headers[name] = [...existing, value];
    else headers[name] = [String(existing), value];
  }
}
