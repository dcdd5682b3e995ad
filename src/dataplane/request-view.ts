// What routing reads from a request: computed once per request, before any route is tried.
import type { IncomingHttpHeaders } from 'node:http';

export interface RequestView {
  readonly method: string;
  /** The path without the query string. */
  readonly path: string;
  /** The query string without "?", or "". */
  readonly query: string;
  /** The :authority (absolute-URL host or Host header) as sent, port included. */
  readonly authority: string;
  /** The authority lower-cased and without its port: what virtual hosts match. */
  readonly host: string;
  readonly scheme: 'http' | 'https';
  readonly headers: IncomingHttpHeaders;
}

/** A header's value for matching, with pseudo-headers resolved. Undefined when absent. */
export function headerValue(req: RequestView, name: string): string | undefined {
  switch (name) {
    case ':method':
      return req.method;
    case ':authority':
    case 'host':
      return req.authority;
    case ':scheme':
      return req.scheme;
    case ':path':
      return req.query === '' ? req.path : `${req.path}?${req.query}`;
    default: {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(',') : v;
    }
  }
}

/** The first value of a query parameter, undefined when absent. Values are compared undecoded, as Envoy does. */
export function queryParamValue(query: string, name: string): string | undefined {
  if (query === '') return undefined;
  let start = 0;
  while (start <= query.length) {
    let end = query.indexOf('&', start);
    if (end < 0) end = query.length;
    const eq = query.indexOf('=', start);
    const keyEnd = eq >= 0 && eq < end ? eq : end;
    if (query.slice(start, keyEnd) === name) return keyEnd === end ? '' : query.slice(keyEnd + 1, end);
    start = end + 1;
  }
  return undefined;
}

/** Splits "host:port", "[v6]:port" or "host" into a lower-cased host and an optional port. */
export function splitAuthority(authority: string): { host: string; port: number | undefined } {
  let host = authority;
  let portText: string | undefined;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close > 0) {
      host = authority.slice(0, close + 1);
      if (authority[close + 1] === ':') portText = authority.slice(close + 2);
    }
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon >= 0 && authority.indexOf(':') === colon) {
      host = authority.slice(0, colon);
      portText = authority.slice(colon + 1);
    }
  }
  const port = portText !== undefined && /^\d{1,5}$/.test(portText) ? Number(portText) : undefined;
  return { host: host.toLowerCase(), port };
}
