import {
  childPath,
  type Destination,
  type HTTPMatchRequest,
  type HTTPRoute,
  type Headers,
  type Resource,
  type StringMatch,
} from '../model/index.js';
import type { Findings } from './findings.js';
import {
  checkExportTo,
  checkPort,
  isDns1123Label,
  isIpAddress,
  fqdnError,
  ipSubnetError,
  wildcardDomainError,
} from './names.js';
import { regexError } from './regex.js';

const HEADER_NAME = /^[-_A-Za-z0-9]+$/;

/** Istio's retryOn policies (Envoy x-envoy-retry-on and x-envoy-retry-grpc-on). */
const RETRY_ON = new Set([
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'envoy-ratelimited',
  'http3-post-connect-failure',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
]);

/** host.Name.Matches: wildcard-aware overlap of two hosts (pkg/config/host). */
function hostsOverlap(a: string, b: string): boolean {
  const wa = a.startsWith('*');
  const wb = b.startsWith('*');
  if (!wa && !wb) return a === b;
  if (wa && wb) return a.length < b.length ? b.endsWith(a.slice(1)) : a.endsWith(b.slice(1));
  return wa ? b.endsWith(a.slice(1)) : a.endsWith(b.slice(1));
}

/** host.Name.SubsetOf: every name `a` matches is matched by `b`. */
function hostSubsetOf(a: string, b: string): boolean {
  if (b.startsWith('*')) return a.endsWith(b.slice(1));
  return !a.startsWith('*') && a === b;
}

export function gatewayRefError(ref: string): { error?: string; legacy?: string } {
  if (ref === 'mesh') return {};
  const slash = ref.indexOf('/');
  if (slash < 0) {
    // Normalized refs always contain "/", except unqualified FQDN-style legacy names which ingest already mapped.
    const err = fqdnError(ref);
    return err ? { error: err } : {};
  }
  const ns = ref.slice(0, slash);
  const name = ref.slice(slash + 1);
  if (ns === '' || name === '') return { error: 'config namespace and gateway name cannot be empty' };
  if (!isDns1123Label(ns)) return { error: `invalid value for namespace: "${ns}"` };
  if (!isDns1123Label(name)) return { error: `invalid value for gateway name: "${name}"` };
  return {};
}

function checkGatewayRefs(f: Findings, field: string, refs: readonly string[]): void {
  refs.forEach((g, i) => {
    const { error } = gatewayRefError(g);
    if (error)
      f.add(
        'InvalidGatewayReference',
        `${field}[${i}]`,
        `${error} (gateway "${g}")`,
        'write "mesh", "name" (same namespace) or "namespace/name"',
      );
  });
}

function checkStringMatch(f: Findings, field: string, m: StringMatch | undefined): void {
  if (!m) return;
  if (m.kind === 'prefix' && m.value === '')
    f.add('EmptyStringMatch', field, 'prefix string match should not be empty', 'use prefix: "/" to match everything');
  if (m.kind === 'regex') {
    const err = regexError(m.value);
    if (err) f.add(m.value === '' ? 'EmptyStringMatch' : 'InvalidRegex', field, err);
  }
}

function checkMatch(f: Findings, field: string, m: HTTPMatchRequest): void {
  for (const k of ['uri', 'scheme', 'method', 'authority'] as const) checkStringMatch(f, `${field}.${k}`, m[k]);
  for (const [k, v] of Object.entries(m.headers)) {
    if (!HEADER_NAME.test(k))
      f.add(
        'InvalidHeaderName',
        `${field}.headers`,
        `header name "${k}" is not a valid header name`,
        'use letters, digits, "-" and "_"',
      );
    checkStringMatch(f, `${field}.headers`, v);
  }
  for (const [k, v] of Object.entries(m.withoutHeaders)) {
    if (!HEADER_NAME.test(k))
      f.add('InvalidHeaderName', `${field}.withoutHeaders`, `header name "${k}" is not a valid header name`);
    checkStringMatch(f, `${field}.withoutHeaders`, v);
  }
  for (const v of Object.values(m.queryParams)) checkStringMatch(f, `${field}.queryParams`, v);
  if (m.port !== undefined) checkPort(f, `${field}.port`, m.port);
  checkGatewayRefs(f, `${field}.gateways`, m.gateways);
  if (m.sourceNamespace !== undefined && !isDns1123Label(m.sourceNamespace)) {
    f.add(
      'InvalidSourceNamespace',
      `${field}.sourceNamespace`,
      `sourceNamespace match ${m.sourceNamespace} is invalid`,
    );
  }
}

// tchar (RFC 9110 §5.6.2): what a header name is made of; the codec's own (dataplane/http1/head-grammar.ts) is
// downstream of validation, which imports nothing from it.
const IS_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Control characters other than HTAB: CR and LF would end the header line; none may be sent. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its purpose
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
/** An Envoy command operator (%NAME% or %NAME(arg)%) once %% is taken out. */
const ENVOY_VARIABLE = /%[A-Z_0-9]+(\([^%]*\))?(:\d+)?%/;

/**
 * A name and value that can go on the wire, as istiod validates them (a name, a value whose % are paired) and as
 * Envoy refuses at load what it cannot send (a name that is not a token, a control character): here a config error
 * at validate and apply, not a failure of every request the route sends.
 */
function checkHeaderEntry(f: Findings, at: string, name: string, value: string | undefined): void {
  if (name === '') {
    f.add('InvalidHeaderOperation', at, 'header name cannot be empty');
    return;
  }
  if (!name.startsWith(':') && !IS_TOKEN.test(name)) {
    f.add(
      'InvalidHeaderOperation',
      at,
      `header name ${JSON.stringify(name)} is not a token (RFC 9110): it cannot be sent`,
      "use letters, digits and !#$%&'*+-.^_`|~",
    );
  }
  if (value === undefined) return;
  const control = CONTROL.exec(value);
  if (control) {
    f.add(
      'InvalidHeaderOperation',
      at,
      `value of header ${JSON.stringify(name)} holds a control character (${JSON.stringify(control[0])}): it cannot be sent`,
      'a header value is one line of visible characters, spaces and tabs',
    );
  }
  if ((value.split('%').length - 1) % 2 !== 0) {
    f.add(
      'InvalidHeaderOperation',
      at,
      `value of header ${JSON.stringify(name)}: a single % is not allowed`,
      'write %% for a literal %, or enclose an Envoy variable name in a pair of %',
    );
    return;
  }
  const variable = ENVOY_VARIABLE.exec(value.replaceAll('%%', ''));
  if (variable) {
    f.add(
      'HeaderValueNotExpanded',
      at,
      `value of header ${JSON.stringify(name)} names an Envoy variable (${variable[0]}), which tollgate sends as written`,
      'set the value the header should carry; %% stands for a literal %',
    );
  }
}

function checkHeaderOps(f: Findings, field: string, h: Headers | undefined): void {
  for (const [dir, ops] of [
    ['request', h?.request],
    ['response', h?.response],
  ] as const) {
    if (!ops) continue;
    for (const op of ['set', 'add'] as const) {
      for (const [name, value] of Object.entries(ops[op])) {
        checkHeaderEntry(f, childPath(`${field}.${dir}.${op}`, name), name, value);
      }
    }
    ops.remove.forEach((name, i) => checkHeaderEntry(f, childPath(`${field}.${dir}.remove`, i), name, undefined));
    const names = [...Object.keys(ops.set), ...Object.keys(ops.add)];
    for (const n of [...names, ...ops.remove]) {
      const isAuthority = /^(:authority|host)$/i.test(n);
      const settable = dir === 'request' && isAuthority && !ops.remove.includes(n);
      if ((n.startsWith(':') || /^host$/i.test(n)) && !settable) {
        f.add(
          'InvalidHeaderOperation',
          `${field}.${dir}`,
          `invalid header "${n}": cannot modify pseudo-headers or Host here`,
          'use rewrite.authority to change the Host',
        );
      }
    }
  }
}

function checkDestination(f: Findings, field: string, d: Destination): void {
  if (d.host === '*') f.add('InvalidDestination', `${field}.host`, 'invalid destination host *', 'name one host');
  else {
    const err = wildcardDomainError(d.host);
    if (err) f.add('InvalidDestination', `${field}.host`, err);
  }
  if (d.subset !== undefined && !isDns1123Label(d.subset))
    f.add(
      'InvalidDestination',
      `${field}.subset`,
      d.subset === '' ? 'subset name cannot be empty' : `subset name is invalid: ${d.subset}`,
    );
  if (d.port !== undefined) checkPort(f, `${field}.port.number`, d.port);
}

function checkWeights(f: Findings, field: string, routes: readonly { weight: number }[]): void {
  let total = 0;
  routes.forEach((r, i) => {
    if (r.weight < 0) f.add('InvalidWeight', `${field}[${i}].weight`, `weight ${r.weight} < 0`);
    total += r.weight;
  });
  if (routes.length > 1 && total === 0)
    f.add('InvalidWeight', field, 'total destination weight = 0', 'give the destinations weights, e.g. 90 and 10');
}

function checkHttpRoute(f: Findings, r: HTTPRoute, i: number, isDelegate: boolean): void {
  const field = `spec.http[${i}]`;
  const actions = (['route', 'redirect', 'directResponse', 'delegate'] as const).filter((k) =>
    k === 'route' ? r.route.length > 0 : r[k] !== undefined,
  );
  if (actions.length !== 1) {
    f.add(
      'HttpRouteAction',
      field,
      actions.length === 0
        ? `http route ${r.name ?? `#${i}`} needs one of route, redirect, directResponse or delegate`
        : `http route ${r.name ?? `#${i}`} has ${actions.join(' and ')}; exactly one of route, redirect, directResponse or delegate is allowed`,
      'keep exactly one action per http rule',
    );
  }
  if (isDelegate && r.delegate)
    f.add('HttpRouteAction', `${field}.delegate`, 'delegate HTTP route cannot contain delegate');
  if (r.redirect || r.directResponse) {
    const what = r.redirect ? 'redirect' : 'directResponse';
    if (r.rewrite)
      f.add('RedirectConflict', `${field}.rewrite`, `HTTP route rule cannot contain both rewrite and ${what}`);
    if (r.fault && r.redirect)
      f.add('RedirectConflict', `${field}.fault`, 'HTTP route cannot contain both fault and redirect');
  }

  r.match.forEach((m, j) => checkMatch(f, `${field}.match[${j}]`, m));
  checkHeaderOps(f, `${field}.headers`, r.headers);
  r.route.forEach((d, j) => {
    checkDestination(f, `${field}.route[${j}].destination`, d.destination);
    checkHeaderOps(f, `${field}.route[${j}].headers`, d.headers);
  });
  checkWeights(f, `${field}.route`, r.route);

  if (r.redirect) {
    const rd = r.redirect;
    if (!rd.uri && !rd.authority && rd.port === undefined && !rd.derivePort && !rd.scheme) {
      f.add('InvalidRedirect', `${field}.redirect`, 'redirect must specify URI, authority, scheme, or port');
    }
    if (rd.redirectCode < 300 || rd.redirectCode > 399)
      f.add(
        'InvalidRedirect',
        `${field}.redirect.redirectCode`,
        `${rd.redirectCode} is not a valid redirect code, must be 3xx`,
      );
    if (rd.scheme && rd.scheme !== 'http' && rd.scheme !== 'https')
      f.add(
        'InvalidRedirect',
        `${field}.redirect.scheme`,
        `invalid redirect scheme "${rd.scheme}", must be "http" or "https"`,
      );
    if (rd.port !== undefined) checkPort(f, `${field}.redirect.port`, rd.port);
  }
  if (r.directResponse) {
    const dr = r.directResponse;
    if (dr.status < 200 || dr.status > 599)
      f.add(
        'InvalidDirectResponse',
        `${field}.directResponse.status`,
        `HTTP status ${dr.status} is not in range 200-599`,
      );
    const size = Buffer.byteLength(dr.body ?? '');
    if (size > 1024 * 1024)
      f.add('InvalidDirectResponse', `${field}.directResponse.body`, 'direct response bodies must be less than 1MB');
    else if (size > 100 * 1024)
      f.add(
        'InvalidDirectResponse',
        `${field}.directResponse.body`,
        'large direct responses may impact control plane performance',
        undefined,
        'warning',
      );
  }
  if (r.rewrite) {
    const rw = r.rewrite;
    if (rw.uri && rw.uriRegexRewrite)
      f.add('InvalidRewrite', `${field}.rewrite`, 'rewrite may only contain one of uri or uriRegexRewrite');
    if (!rw.uri && !rw.uriRegexRewrite && !rw.authority)
      f.add(
        'InvalidRewrite',
        `${field}.rewrite`,
        'rewrite must specify at least one of uri, uriRegexRewrite, or authority',
      );
    if (rw.uriRegexRewrite) {
      if (!rw.uriRegexRewrite.match || !rw.uriRegexRewrite.rewrite)
        f.add(
          'InvalidRewrite',
          `${field}.rewrite.uriRegexRewrite`,
          'uriRegexRewrite requires both rewrite and match fields to be specified',
        );
      else {
        const err = regexError(rw.uriRegexRewrite.match);
        if (err) f.add('InvalidRegex', `${field}.rewrite.uriRegexRewrite.match`, err);
      }
    }
  }
  if (r.retries) {
    const rt = r.retries;
    if (rt.attempts < 0) f.add('InvalidRetry', `${field}.retries.attempts`, 'attempts cannot be negative');
    if (
      rt.attempts === 0 &&
      (rt.perTryTimeoutMs !== undefined || rt.retryOn || rt.retryRemoteLocalities !== undefined)
    ) {
      f.add(
        'InvalidRetry',
        `${field}.retries`,
        'http retry policy configured when attempts are set to 0 (disabled)',
        'set attempts, or remove the retry settings',
      );
    }
    for (const p of (rt.retryOn ?? '').split(',').filter((x) => x !== '')) {
      const code = /^\d+$/.test(p) ? Number(p) : NaN;
      if (!RETRY_ON.has(p) && !(code >= 100 && code <= 599))
        f.add(
          'InvalidRetry',
          `${field}.retries.retryOn`,
          `"${p}" is not a valid retryOn policy`,
          `use e.g. ${[...RETRY_ON].slice(0, 5).join(', ')}`,
        );
    }
  }
  if (r.fault) {
    const ft = r.fault;
    if (!ft.delay && !ft.abort)
      f.add('InvalidFault', `${field}.fault`, 'HTTP fault injection must have an abort and/or a delay');
    for (const [k, p] of [
      ['delay', ft.delay?.percentage],
      ['abort', ft.abort?.percentage],
    ] as const) {
      if (p !== undefined && (p < 0 || p > 100))
        f.add('InvalidPercentage', `${field}.fault.${k}.percentage`, `percentage ${p} is not in range 0..100`);
    }
    if (ft.abort && (ft.abort.httpStatus < 200 || ft.abort.httpStatus > 599))
      f.add(
        'InvalidFault',
        `${field}.fault.abort.httpStatus`,
        `HTTP status ${ft.abort.httpStatus} is not in range 200-599`,
      );
  }
  if (r.mirror) checkDestination(f, `${field}.mirror`, r.mirror);
  if (r.mirrorPercentage !== undefined && (r.mirrorPercentage < 0 || r.mirrorPercentage > 100)) {
    f.add(
      'InvalidPercentage',
      `${field}.mirrorPercentage`,
      `mirror percentage ${r.mirrorPercentage} is not in range 0..100`,
    );
  }
}

/** Mirrors Istio's ValidateVirtualService and validateHTTPRoute. */
export function validateVirtualService(r: Resource<'VirtualService'>, f: Findings): void {
  const s = r.spec;
  const isDelegate = s.hosts.length === 0;
  if (isDelegate) {
    f.add(
      'VirtualServiceNoHosts',
      'spec.hosts',
      'virtual service has no hosts: it can only be used as a delegate of another VirtualService',
      'add hosts, e.g. hosts: [api.example.com]',
    );
    if (f.wrote('spec.gateways'))
      f.add('DelegateVirtualServiceShape', 'spec.gateways', 'delegate virtual service must have no gateways specified');
    if (s.tls.length > 0)
      f.add('DelegateVirtualServiceShape', 'spec.tls', 'delegate virtual service must have no tls route specified');
    if (s.tcp.length > 0)
      f.add('DelegateVirtualServiceShape', 'spec.tcp', 'delegate virtual service must have no tcp route specified');
  }
  if (f.wrote('spec.gateways')) checkGatewayRefs(f, 'spec.gateways', s.gateways);
  const appliesToMesh = s.gateways.includes('mesh');

  let allValid = true;
  s.hosts.forEach((h, i) => {
    const err = wildcardDomainError(h);
    if (err && !isIpAddress(h)) {
      f.add('InvalidHostname', `spec.hosts[${i}]`, err);
      allValid = false;
    } else if (appliesToMesh && h === '*') {
      f.add(
        'WildcardHostForMesh',
        `spec.hosts[${i}]`,
        'wildcard host * is not allowed for virtual services bound to the mesh gateway',
        'list the hosts, or bind the VirtualService to gateways only',
      );
      allValid = false;
    }
  });
  if (allValid) {
    for (let i = 0; i < s.hosts.length; i++) {
      for (let j = i + 1; j < s.hosts.length; j++) {
        if (hostsOverlap(s.hosts[i]!, s.hosts[j]!))
          f.add(
            'DuplicateVirtualServiceHosts',
            `spec.hosts[${j}]`,
            `duplicate hosts in virtual service: ${s.hosts[i]} & ${s.hosts[j]}`,
          );
      }
    }
  }

  if (s.http.length === 0 && s.tls.length === 0 && s.tcp.length === 0)
    f.add(
      'VirtualServiceNoRoutes',
      'spec',
      'http, tcp or tls must be provided in virtual service',
      'add an http (or tls/tcp) rule',
    );
  s.http.forEach((h, i) => checkHttpRoute(f, h, i, isDelegate));
  // Unreachable rules are the analyzers' (IST0130/IST0131), so one mistake is reported once.

  s.tls.forEach((t, i) => {
    const field = `spec.tls[${i}]`;
    if (t.match.length === 0)
      f.add(
        'InvalidTlsRouteMatch',
        `${field}.match`,
        'TLS route must have at least one match condition',
        'add match: [{sniHosts: [...]}]',
      );
    t.match.forEach((m, j) => {
      const mf = `${field}.match[${j}]`;
      if (m.sniHosts.length === 0)
        f.add('InvalidTlsRouteMatch', `${mf}.sniHosts`, 'TLS match must have at least one SNI host');
      m.sniHosts.forEach((sni, k) => {
        if (isIpAddress(sni)) {
          f.add(
            'InvalidTlsRouteMatch',
            `${mf}.sniHosts[${k}]`,
            `using an IP address ("${sni}") goes against SNI spec and most clients do not support this`,
            undefined,
            'warning',
          );
          return;
        }
        const err = wildcardDomainError(sni);
        if (err) f.add('InvalidHostname', `${mf}.sniHosts[${k}]`, err);
        else if (!s.hosts.some((h) => hostSubsetOf(sni, h))) {
          f.add(
            'InvalidTlsRouteMatch',
            `${mf}.sniHosts[${k}]`,
            `SNI host "${sni}" is not a compatible subset of any of the virtual service hosts: [${s.hosts.join(', ')}]`,
            'add the host to spec.hosts, or fix the SNI name',
          );
        }
      });
      m.destinationSubnets.forEach((d, k) => {
        const err = ipSubnetError(d);
        if (err) f.add('InvalidAddress', `${mf}.destinationSubnets[${k}]`, err);
      });
      if (m.port !== undefined) checkPort(f, `${mf}.port`, m.port);
      checkGatewayRefs(f, `${mf}.gateways`, m.gateways);
    });
    if (t.route.length === 0) f.add('RouteMissing', `${field}.route`, 'TLS route is required');
    t.route.forEach((d, j) => checkDestination(f, `${field}.route[${j}].destination`, d.destination));
    checkWeights(f, `${field}.route`, t.route);
  });

  s.tcp.forEach((t, i) => {
    const field = `spec.tcp[${i}]`;
    t.match.forEach((m, j) => {
      const mf = `${field}.match[${j}]`;
      m.destinationSubnets.forEach((d, k) => {
        const err = ipSubnetError(d);
        if (err) f.add('InvalidAddress', `${mf}.destinationSubnets[${k}]`, err);
      });
      if (m.port !== undefined) checkPort(f, `${mf}.port`, m.port);
      checkGatewayRefs(f, `${mf}.gateways`, m.gateways);
    });
    if (t.route.length === 0) f.add('RouteMissing', `${field}.route`, 'TCP route is required');
    t.route.forEach((d, j) => checkDestination(f, `${field}.route[${j}].destination`, d.destination));
    checkWeights(f, `${field}.route`, t.route);
  });

  checkExportTo(f, r.meta.namespace, s.exportTo, false);
}
