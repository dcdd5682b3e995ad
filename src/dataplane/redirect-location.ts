// The Location of a route's redirect, as Envoy computes it from the request.
import type { CompiledRedirectAction } from './compile-routes.js';
import { splitAuthority, type RequestView } from './request-view.js';

/** Envoy's redirect: each configured part replaces the request's; the query survives a path without one. */
export function redirectLocation(a: CompiledRedirectAction, view: RequestView): string {
  const scheme = a.scheme ?? view.scheme;
  const { host: reqHost, port: reqPort } = splitAuthority(view.authority);
  let host = a.host ?? reqHost;
  let port = a.port ?? (a.host !== undefined ? undefined : reqPort);
  // A scheme change drops the old scheme's default port.
  if (a.scheme !== undefined && a.port === undefined && port === 80) port = undefined;
  if (port !== undefined) host = `${host}:${port}`;
  let path = a.path ?? view.path;
  if (!path.includes('?') && view.query !== '') path = `${path}?${view.query}`;
  return `${scheme}://${host}${path}`;
}
