// Header handling shared by the request and response paths.
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
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
  const named = headers.connection;
  const extra = named
    ? new Set(
        named
          .toLowerCase()
          .split(',')
          .map((s) => s.trim()),
      )
    : undefined;
  const out: OutgoingHttpHeaders = {};
  // Node's parsed headers are an own-property bag with no prototype chain to walk.
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || extra?.has(name)) continue;
    out[name] = value;
  }
  return out;
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

/**
 * Writes a response head to the downstream client as Envoy does on HTTP/1.1: a connection that stays open gets no
 * `Connection: keep-alive` or `Keep-Alive: timeout=...` (which Node adds by itself); one that closes after this
 * response (a drain, a refused request) gets `Connection: close`.
 */
export function writeResponseHead(res: ServerResponse, status: number, headers: OutgoingHttpHeaders): void {
  if (res.shouldKeepAlive && !res.hasHeader('connection')) res.removeHeader('connection');
  res.writeHead(status, headers);
}
