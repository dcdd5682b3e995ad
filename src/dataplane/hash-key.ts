// The consistent-hash key of a request (Envoy's route hash_policy), compiled once per cluster.
import type { HashPolicy } from '../proxy-config/types.js';
import { hashString } from './cluster-lb.js';
import { ConfigError } from './errors.js';
import { assertNever } from './matchers.js';
import { headerValue, queryParamValue, type RequestView } from './request-view.js';

/** The request's hash, or undefined when it carries no key (the cluster's fallback policy then decides). */
export type HashKey = (req: RequestView, remoteIp: string | undefined) => number | undefined;

export function compileHashKey(p: HashPolicy, field: string): HashKey {
  switch (p.kind) {
    case 'header': {
      const name = nonEmpty(p.name, field).toLowerCase();
      return (req) => hashOf(headerValue(req, name));
    }
    case 'queryParameter': {
      const name = nonEmpty(p.name, field);
      return (req) => hashOf(queryParamValue(req.query, name));
    }
    case 'sourceIp':
      return (_req, ip) => hashOf(ip);
    case 'cookie': {
      const name = nonEmpty(p.name, field);
      return (req) => hashOf(cookieValue(req.headers.cookie, name));
    }
    default:
      return assertNever(p, `${field}.kind`);
  }
}

function nonEmpty(name: string, field: string): string {
  if (typeof name !== 'string' || name === '') throw new ConfigError(`${field}.name`, 'must not be empty');
  return name;
}

function hashOf(v: string | undefined): number | undefined {
  return v === undefined ? undefined : hashString(v);
}

/** The first cookie of that name in the Cookie header(s). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    const eq = header.indexOf('=', start);
    if (eq > start && eq < end && header.slice(start, eq).trim() === name) return header.slice(eq + 1, end).trim();
    start = end + 1;
  }
  return undefined;
}
