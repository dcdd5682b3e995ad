// The request target: absolute-form ("GET http://aliyun.com/path", as sent to an explicit proxy) or origin-form
// ("GET /path" with a Host header, as sent to a transparent proxy or a gateway).
import type { DownstreamRequest } from './http1/types.js';

export interface RequestTarget {
  /** The scheme of an absolute-form target, lower-cased; undefined for origin-form. */
  readonly scheme: string | undefined;
  /** :authority; undefined when neither the URL nor a Host header gives one. */
  readonly authority: string | undefined;
  readonly path: string;
  readonly query: string;
  /** The path and query as sent (absolute URLs reduced to their path, as Envoy's :path). */
  readonly pathAndQuery: string;
}

const SLASH = 0x2f;
const QUESTION = 0x3f;
const HASH = 0x23;

export function parseRequestTarget(req: Pick<DownstreamRequest, 'url' | 'headers'>): RequestTarget {
  const url = req.url;
  let authority = req.headers.host;
  let rest = url;
  let absoluteScheme: string | undefined;
  const scheme = url.indexOf('://');
  if (scheme > 0 && !url.startsWith('/')) {
    absoluteScheme = url.startsWith('http://') ? 'http' : url.slice(0, scheme).toLowerCase();
    const afterScheme = scheme + 3;
    let end = afterScheme;
    while (end < url.length) {
      const c = url.charCodeAt(end);
      if (c === SLASH || c === QUESTION || c === HASH) break;
      end++;
    }
    const hostPart = url.slice(afterScheme, end);
    // userinfo is not part of the authority
    const at = hostPart.lastIndexOf('@');
    authority = at >= 0 ? hostPart.slice(at + 1) : hostPart;
    rest = url.slice(end);
    if (rest === '' || rest.startsWith('?')) rest = `/${rest}`;
  }
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  return {
    scheme: absoluteScheme,
    authority: authority === '' ? undefined : authority,
    path: q >= 0 ? rest.slice(0, q) : rest,
    query: q >= 0 ? rest.slice(q + 1) : '',
    pathAndQuery: rest,
  };
}
