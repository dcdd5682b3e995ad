// Route matchers compiled once per config into closures; per request they only compare strings.
import type { HeaderMatcher, QueryParamMatcher, RouteMatch, StringMatcher } from '../proxy-config/types.js';
import { ConfigError } from './errors.js';
import { hasNonAscii, utf8Bytes } from './http1/head-writer.js';
import { headerValue, queryParamValue, type RequestView } from './request-view.js';

/** Tests a value that may be absent. Only `present` can match an absent value's presence. */
export type ValueTest = (value: string | undefined) => boolean;

/**
 * Exact and prefix values are compared as the bytes a request carries (utf8Bytes): "café" in a VirtualService
 * matches the UTF-8 a client sends. Regular expressions run on those bytes as they are.
 */
export function compileStringMatcher(m: StringMatcher, field: string): ValueTest {
  switch (m.kind) {
    case 'exact': {
      if (m.ignoreCase) {
        const want = asciiLower(utf8Bytes(m.value));
        return (v) => v !== undefined && asciiLower(v) === want;
      }
      const want = utf8Bytes(m.value);
      return (v) => v === want;
    }
    case 'prefix': {
      if (m.ignoreCase) {
        const want = asciiLower(utf8Bytes(m.value));
        return (v) => v !== undefined && asciiLower(v).startsWith(want);
      }
      const want = utf8Bytes(m.value);
      return (v) => v !== undefined && v.startsWith(want);
    }
    case 'regex': {
      const re = compileRegex(m.value, field);
      return (v) => v !== undefined && re.test(v);
    }
    case 'present':
      return (v) => v !== undefined;
    default:
      return assertNever(m, field);
  }
}

const ASCII_UPPER = /[A-Z]+/g;
const lower = (letters: string): string => letters.toLowerCase();

/**
 * ignore_case as Envoy has it: ASCII letters folded, every other byte compared as it is. (toLowerCase would fold
 * latin1 letters too, and so the lead bytes of some UTF-8 sequences: 0xC3 into 0xE3.)
 */
function asciiLower(bytes: string): string {
  return hasNonAscii(bytes) ? bytes.replace(ASCII_UPPER, lower) : bytes.toLowerCase();
}

/** RE2 regexes in Istio are full matches; anchoring here keeps `re.test` exact. */
export function compileRegex(pattern: string, field: string, flags = ''): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`, flags);
  } catch (err) {
    throw new ConfigError(field, `invalid regex ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
}

export type RequestTest = (req: RequestView) => boolean;

function compileHeaderMatcher(h: HeaderMatcher, field: string): RequestTest {
  const test = compileStringMatcher(h.match, `${field}.match`);
  const name = h.name.toLowerCase();
  return h.invert ? (req) => !test(headerValue(req, name)) : (req) => test(headerValue(req, name));
}

function compileQueryMatcher(q: QueryParamMatcher, field: string): RequestTest {
  const test = compileStringMatcher(q.match, `${field}.match`);
  const name = q.name;
  return (req) => test(queryParamValue(req.query, name));
}

/** AND of the path, header and query-parameter matchers; an empty match accepts every request. */
export function compileRouteMatch(match: RouteMatch, field: string): RequestTest {
  const tests: RequestTest[] = [];
  if (match.path) {
    const pathTest = compileStringMatcher(match.path, `${field}.path`);
    tests.push((req) => pathTest(req.path));
  }
  match.headers.forEach((h, i) => tests.push(compileHeaderMatcher(h, `${field}.headers[${i}]`)));
  match.queryParams.forEach((q, i) => tests.push(compileQueryMatcher(q, `${field}.queryParams[${i}]`)));
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0]!;
  return (req) => {
    for (const t of tests) if (!t(req)) return false;
    return true;
  };
}

/**
 * Route matchers shared within one route config: routes that match alike (most match every path) share one
 * compiled test, so a request's route is tested by code and data that other hosts' requests keep warm, rather
 * than by one closure per route spread over the heap.
 */
export class RouteMatchCache {
  private readonly tests = new Map<string, RequestTest>();

  compile(match: RouteMatch, field: string): RequestTest {
    const key = JSON.stringify(match);
    let test = this.tests.get(key);
    if (test === undefined) {
      test = compileRouteMatch(match, field);
      this.tests.set(key, test);
    }
    return test;
  }
}

export function assertNever(value: never, field: string): never {
  throw new ConfigError(field, `unknown variant ${JSON.stringify(value)}`);
}
