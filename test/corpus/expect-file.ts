// The shape of a corpus case's expect.yaml, read strictly: an unknown key is an error, so that a misspelt
// expectation can never pass by being ignored.
import { parse } from 'yaml';

export interface ExpectedDiagnostic {
  readonly code: string;
  readonly level: 'error' | 'warning' | 'info';
  /** Absent for findings about no resource (a YAML syntax error). */
  readonly kind?: string;
  readonly namespace?: string;
  readonly name?: string;
  /** Compared when given. */
  readonly field?: string;
  /** Compared with position.line when given. */
  readonly line?: number;
  /** A substring of the message or the hint, when given. */
  readonly messageIncludes?: string;
}

export interface ProxyRef {
  readonly type: 'sidecar' | 'router';
  readonly name: string;
  readonly namespace: string;
}

export interface ExpectedOutcome {
  readonly outcome?: 'forward' | 'direct' | 'redirect' | 'refused';
  readonly status?: number;
  readonly flags?: 'NR' | 'NC' | 'UH' | '-';
  readonly details?: string;
  readonly listener?: string;
  readonly routeConfig?: string;
  readonly vhost?: string;
  readonly route?: string;
  readonly cluster?: string;
  readonly upstream?: { readonly address: string; readonly port: number };
}

export interface RequestCase {
  readonly from: ProxyRef;
  /** Sidecar: the destination port the client dialed. Gateway: the port the gateway pod listens on (targetPort). */
  readonly port: number;
  readonly host: string;
  readonly path?: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly expect: ExpectedOutcome;
  readonly pending?: string;
}

export interface ClusterCase {
  readonly from: ProxyRef;
  readonly name: string;
  readonly type?: string;
  readonly endpoints?: readonly { readonly address: string; readonly port: number }[];
  /** The TLS the cluster originates: its mode, or "none". */
  readonly tls?: 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL' | 'none';
  /** A substring of why the proxy cannot set that TLS up (a missing credential, an unreadable file). */
  readonly tlsFailure?: string;
  readonly pending?: string;
}

export interface ExpectedConnectionOutcome {
  /** What the chosen filter chain does; "closed": no chain takes the connection (filter_chain_not_found). */
  readonly outcome?: 'tcp-proxy' | 'http' | 'closed';
  readonly chain?: string;
  /** tcp-proxy: the cluster the bytes go to (the first of a weighted list). */
  readonly cluster?: string;
  /** http: the route config the requests inside are routed by. */
  readonly routeConfig?: string;
  /** A substring of why the chain's TLS cannot be set up (a missing credential, say). */
  readonly tlsFailure?: string;
}

/** A connection (a sidecar's CONNECT tunnel, or a connection to a gateway port) and the filter chain it gets. */
export interface ConnectionCase {
  readonly from: ProxyRef;
  /** Sidecar: the CONNECT port. Gateway: the port the gateway pod listens on (targetPort). */
  readonly port: number;
  /** Sidecar: the CONNECT host. */
  readonly host?: string;
  /** The TLS ClientHello's server name; absent: the connection's first bytes are not TLS. */
  readonly sni?: string;
  readonly expect: ExpectedConnectionOutcome;
  readonly pending?: string;
}

export interface CaseExpectation {
  readonly description?: string;
  /** The diagnostics check is reported as skipped with this reason (requests and clusters carry their own). */
  readonly pending?: string;
  readonly diagnostics: readonly ExpectedDiagnostic[];
  readonly requests: readonly RequestCase[];
  readonly connections: readonly ConnectionCase[];
  readonly clusters: readonly ClusterCase[];
}

type Obj = Record<string, unknown>;

function fail(where: string, msg: string): never {
  throw new Error(`${where}: ${msg}`);
}

function obj(v: unknown, where: string, allowed: readonly string[]): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, 'expected a map');
  for (const k of Object.keys(v))
    if (!allowed.includes(k)) fail(where, `unknown key "${k}" (known: ${allowed.join(', ')})`);
  return v as Obj;
}

function list(v: unknown, where: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(where, 'expected a list');
  return v;
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string') fail(where, 'expected a string');
  return v;
}

function optStr(v: unknown, where: string): string | undefined {
  return v === undefined ? undefined : str(v, where);
}

function num(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(where, 'expected an integer');
  return v;
}

function oneOf<T extends string>(v: unknown, values: readonly T[], where: string): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v))
    fail(where, `expected one of ${values.join(', ')}`);
  return v as T;
}

/** "sidecar sleep.default" or "gateway istio-egressgateway.istio-system". */
function proxyRef(v: unknown, where: string): ProxyRef {
  const m = /^(sidecar|gateway) ([a-z0-9-]+)\.([a-z0-9-]+)$/.exec(str(v, where));
  if (!m) fail(where, 'expected "sidecar NAME.NAMESPACE" or "gateway NAME.NAMESPACE"');
  return { type: m[1] === 'gateway' ? 'router' : 'sidecar', name: m[2] ?? '', namespace: m[3] ?? '' };
}

function diagnostic(v: unknown, where: string): ExpectedDiagnostic {
  const o = obj(v, where, ['code', 'level', 'kind', 'namespace', 'name', 'field', 'line', 'messageIncludes']);
  const resourceKeys = [o.kind, o.namespace, o.name].filter((x) => x !== undefined).length;
  if (resourceKeys !== 0 && resourceKeys !== 3) fail(where, 'give kind, namespace and name together (or none)');
  return {
    code: str(o.code, `${where}.code`),
    level: oneOf(o.level, ['error', 'warning', 'info'] as const, `${where}.level`),
    ...(o.kind !== undefined
      ? {
          kind: str(o.kind, `${where}.kind`),
          namespace: str(o.namespace, `${where}.namespace`),
          name: str(o.name, `${where}.name`),
        }
      : {}),
    ...(o.field !== undefined ? { field: str(o.field, `${where}.field`) } : {}),
    ...(o.line !== undefined ? { line: num(o.line, `${where}.line`) } : {}),
    ...(o.messageIncludes !== undefined ? { messageIncludes: str(o.messageIncludes, `${where}.messageIncludes`) } : {}),
  };
}

function endpoint(v: unknown, where: string): { address: string; port: number } {
  const o = obj(v, where, ['address', 'port']);
  return { address: str(o.address, `${where}.address`), port: num(o.port, `${where}.port`) };
}

function outcome(v: unknown, where: string): ExpectedOutcome {
  const o = obj(v, where, [
    'outcome',
    'status',
    'flags',
    'details',
    'listener',
    'routeConfig',
    'vhost',
    'route',
    'cluster',
    'upstream',
  ]);
  if (Object.keys(o).length === 0) fail(where, 'expect at least one thing');
  const s = (k: string): Obj => (o[k] !== undefined ? { [k]: str(o[k], `${where}.${k}`) } : {});
  return {
    ...(o.outcome !== undefined
      ? { outcome: oneOf(o.outcome, ['forward', 'direct', 'redirect', 'refused'] as const, `${where}.outcome`) }
      : {}),
    ...(o.status !== undefined ? { status: num(o.status, `${where}.status`) } : {}),
    ...(o.flags !== undefined ? { flags: oneOf(o.flags, ['NR', 'NC', 'UH', '-'] as const, `${where}.flags`) } : {}),
    ...s('details'),
    ...s('listener'),
    ...s('routeConfig'),
    ...s('vhost'),
    ...s('route'),
    ...s('cluster'),
    ...(o.upstream !== undefined ? { upstream: endpoint(o.upstream, `${where}.upstream`) } : {}),
  } as ExpectedOutcome;
}

function request(v: unknown, where: string): RequestCase {
  const o = obj(v, where, ['from', 'port', 'host', 'path', 'method', 'headers', 'expect', 'pending']);
  const headers =
    o.headers === undefined ? undefined : obj(o.headers, `${where}.headers`, Object.keys(o.headers as Obj));
  const path = optStr(o.path, `${where}.path`);
  const method = optStr(o.method, `${where}.method`);
  const pending = optStr(o.pending, `${where}.pending`);
  return {
    from: proxyRef(o.from, `${where}.from`),
    port: num(o.port, `${where}.port`),
    host: str(o.host, `${where}.host`),
    ...(path !== undefined ? { path } : {}),
    ...(method !== undefined ? { method } : {}),
    ...(headers
      ? { headers: Object.fromEntries(Object.entries(headers).map(([k, x]) => [k, str(x, `${where}.headers.${k}`)])) }
      : {}),
    expect: outcome(o.expect, `${where}.expect`),
    ...(pending !== undefined ? { pending } : {}),
  };
}

function cluster(v: unknown, where: string): ClusterCase {
  const o = obj(v, where, ['from', 'name', 'type', 'endpoints', 'tls', 'tlsFailure', 'pending']);
  const type = optStr(o.type, `${where}.type`);
  const tlsFailure = optStr(o.tlsFailure, `${where}.tlsFailure`);
  const pending = optStr(o.pending, `${where}.pending`);
  return {
    from: proxyRef(o.from, `${where}.from`),
    name: str(o.name, `${where}.name`),
    ...(type !== undefined ? { type } : {}),
    ...(o.endpoints !== undefined
      ? { endpoints: list(o.endpoints, `${where}.endpoints`).map((e, i) => endpoint(e, `${where}.endpoints[${i}]`)) }
      : {}),
    ...(o.tls !== undefined
      ? { tls: oneOf(o.tls, ['SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL', 'none'] as const, `${where}.tls`) }
      : {}),
    ...(tlsFailure !== undefined ? { tlsFailure } : {}),
    ...(pending !== undefined ? { pending } : {}),
  };
}

function connectionOutcome(v: unknown, where: string): ExpectedConnectionOutcome {
  const o = obj(v, where, ['outcome', 'chain', 'cluster', 'routeConfig', 'tlsFailure']);
  if (Object.keys(o).length === 0) fail(where, 'expect at least one thing');
  const s = (k: string): Obj => (o[k] !== undefined ? { [k]: str(o[k], `${where}.${k}`) } : {});
  return {
    ...(o.outcome !== undefined
      ? { outcome: oneOf(o.outcome, ['tcp-proxy', 'http', 'closed'] as const, `${where}.outcome`) }
      : {}),
    ...s('chain'),
    ...s('cluster'),
    ...s('routeConfig'),
    ...s('tlsFailure'),
  } as ExpectedConnectionOutcome;
}

function connection(v: unknown, where: string): ConnectionCase {
  const o = obj(v, where, ['from', 'port', 'host', 'sni', 'expect', 'pending']);
  const host = optStr(o.host, `${where}.host`);
  const sni = optStr(o.sni, `${where}.sni`);
  const pending = optStr(o.pending, `${where}.pending`);
  return {
    from: proxyRef(o.from, `${where}.from`),
    port: num(o.port, `${where}.port`),
    ...(host !== undefined ? { host } : {}),
    ...(sni !== undefined ? { sni } : {}),
    expect: connectionOutcome(o.expect, `${where}.expect`),
    ...(pending !== undefined ? { pending } : {}),
  };
}

export function readExpectation(text: string, file: string): CaseExpectation {
  const o = obj(parse(text) ?? {}, file, [
    'description',
    'pending',
    'diagnostics',
    'requests',
    'connections',
    'clusters',
  ]);
  const description = optStr(o.description, `${file}: description`);
  const pending = optStr(o.pending, `${file}: pending`);
  // The expected findings are an exact set: the key must be there, `[]` for a clean configuration.
  if (o.diagnostics === undefined) fail(file, 'missing "diagnostics" (use [] when none is expected)');
  return {
    ...(description !== undefined ? { description } : {}),
    ...(pending !== undefined ? { pending } : {}),
    diagnostics: list(o.diagnostics, `${file}: diagnostics`).map((d, i) => diagnostic(d, `${file}: diagnostics[${i}]`)),
    requests: list(o.requests, `${file}: requests`).map((r, i) => request(r, `${file}: requests[${i}]`)),
    connections: list(o.connections, `${file}: connections`).map((c, i) => connection(c, `${file}: connections[${i}]`)),
    clusters: list(o.clusters, `${file}: clusters`).map((c, i) => cluster(c, `${file}: clusters[${i}]`)),
  };
}
