// What the HTTP connection manager refuses before routing, as Envoy does with Istio's settings: HTTP/1.0 (426),
// too many headers (431), a request-target that is not http (400), an authority that is not a host and port (400),
// a path that cannot be normalized (400), and upgrades other than WebSocket (403). Each refusal is a ProxyError,
// answered by the one rescue like every other failure.
import { ProxyError } from './errors.js';
import type { DownstreamRequest } from './http1/types.js';
import type { RequestTarget } from './request-target.js';

/** Envoy's max_headers_count default, which Istio keeps. */
export const MAX_REQUEST_HEADERS = 100;

/** Upgrades Istio configures on its HTTP connection managers (upgrade_configs): WebSocket only. */
const ALLOWED_UPGRADES = new Set(['websocket']);

// RFC 3986 reg-name (unreserved, sub-delims, pct-encoded) or an IP literal in brackets; then an optional port.
const AUTHORITY = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::(\d{1,5}))?$/;

/** An authority the checks accepted: its host lower-cased (an IPv6 literal keeps its brackets), and its port. */
export interface CheckedAuthority {
  readonly host: string;
  readonly port: number | undefined;
}

/**
 * Refuses what Envoy refuses before routing. Returns the request's authority split into host and port (as
 * `splitAuthority` splits it), from the same match that checked it; undefined when the request has none.
 */
export function checkRequest(req: DownstreamRequest, target: RequestTarget): CheckedAuthority | undefined {
  if (req.httpVersionMajor === 1 && req.httpVersionMinor === 0) {
    throw new ProxyError('http10_not_accepted', 'HTTP/1.0 is not accepted (Envoy accept_http_10: false)');
  }
  if (req.rawHeaders.length / 2 > MAX_REQUEST_HEADERS) {
    throw new ProxyError('downstream_headers_too_large', `more than ${MAX_REQUEST_HEADERS} request headers`);
  }
  if (target.scheme !== undefined && target.scheme !== 'http') {
    throw new ProxyError(
      'invalid_request_target',
      `absolute-form with scheme ${target.scheme}: only http is proxied this way (HTTPS goes by CONNECT)`,
    );
  }
  if (target.authority === undefined) return undefined;
  const m = AUTHORITY.exec(target.authority);
  const port = m?.[2] === undefined ? undefined : Number(m[2]);
  if (!m || (port !== undefined && port > 65_535)) {
    throw new ProxyError('invalid_authority', `${JSON.stringify(target.authority)} is not a host[:port]`);
  }
  return { host: m[1]!.toLowerCase(), port };
}

/**
 * The upgrade a request asks for, when it is one this proxy tunnels; h2c is dropped (Envoy removes it and serves
 * the request as HTTP/1.1); any other is refused.
 */
export function checkUpgrade(req: DownstreamRequest): 'websocket' | 'none' {
  const raw = req.headers.upgrade;
  if (raw === undefined) return 'none';
  const asked = raw.toLowerCase().trim();
  if (ALLOWED_UPGRADES.has(asked)) return 'websocket';
  if (asked === 'h2c') return 'none';
  throw new ProxyError('upgrade_not_allowed', `upgrade to ${JSON.stringify(raw)} is not enabled`);
}
