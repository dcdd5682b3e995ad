// meshConfig.accessLogFormat: Envoy's command operators (%RESPONSE_CODE%, %REQ(X-FOO)%, ...) in a text format string,
// or, with accessLogEncoding JSON, a JSON object whose string values are format strings. Compiled once per config;
// a line then costs one call per part. Grammar (Envoy's substitution formatter): "%%" is a literal "%"; a command is
// %NAME%, %NAME(ARG)% or %NAME(ARG):MAX% with NAME of A-Z, 0-9 and _, ARG without ")", MAX the most characters kept.
import os from 'node:os';
import { type AccessLogRecord, UNSET } from './access-log.js';

/** The request's and the response's header lines (name, value, name, value...), where the format reads them. */
export interface LogHeaders {
  readonly request: readonly string[] | undefined;
  readonly response: readonly string[] | undefined;
}

type Value = string | number | undefined;
type Getter = (r: AccessLogRecord, h: LogHeaders) => Value;

/** A format compiled for one encoding: the line for a record, without the trailing newline. */
export type LineFormat = (record: AccessLogRecord, headers: LogHeaders) => string;

export interface FormatProblem {
  readonly message: string;
}

export interface CompiledFormat {
  readonly format: LineFormat;
  /** Operators Envoy knows that tollgate renders as "-" (no such data here), each named once. */
  readonly unsupported: readonly string[];
}

const field =
  <K extends keyof AccessLogRecord>(key: K): Getter =>
  (r) =>
    r[key];

function withoutPort(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  if (address.startsWith('[')) return address.slice(1, address.indexOf(']'));
  const colon = address.lastIndexOf(':');
  return colon < 0 ? address : address.slice(0, colon);
}

const HOSTNAME = os.hostname();

/** Commands without an argument, read from the record. The counts and the code are numbers, as Envoy's are. */
const PLAIN: Readonly<Record<string, Getter>> = {
  START_TIME: field('start_time'),
  ROUTE_NAME: field('route_name'),
  PROTOCOL: field('protocol'),
  RESPONSE_CODE: field('response_code'),
  RESPONSE_FLAGS: field('response_flags'),
  RESPONSE_CODE_DETAILS: field('response_code_details'),
  CONNECTION_TERMINATION_DETAILS: field('connection_termination_details'),
  BYTES_RECEIVED: field('bytes_received'),
  BYTES_SENT: field('bytes_sent'),
  DURATION: field('duration'),
  UPSTREAM_HOST: field('upstream_host'),
  UPSTREAM_REMOTE_ADDRESS: field('upstream_host'),
  UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: (r) => withoutPort(r.upstream_host),
  UPSTREAM_CLUSTER: field('upstream_cluster'),
  UPSTREAM_CLUSTER_RAW: field('upstream_cluster'),
  UPSTREAM_LOCAL_ADDRESS: field('upstream_local_address'),
  UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT: (r) => withoutPort(r.upstream_local_address),
  UPSTREAM_TRANSPORT_FAILURE_REASON: field('upstream_transport_failure_reason'),
  DOWNSTREAM_LOCAL_ADDRESS: field('downstream_local_address'),
  DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT: (r) => withoutPort(r.downstream_local_address),
  DOWNSTREAM_REMOTE_ADDRESS: field('downstream_remote_address'),
  DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: (r) => withoutPort(r.downstream_remote_address),
  DOWNSTREAM_DIRECT_REMOTE_ADDRESS: field('downstream_remote_address'),
  DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT: (r) => withoutPort(r.downstream_remote_address),
  REQUESTED_SERVER_NAME: field('requested_server_name'),
  HOSTNAME: () => HOSTNAME,
};

/**
 * Commands Envoy has that read what tollgate does not keep (TLS peers, metadata, filter state, gRPC, timings of
 * parts of a stream): accepted and rendered "-", and named in a warning.
 */
const UNSUPPORTED = new Set([
  'TRAILER',
  'GRPC_STATUS',
  'GRPC_STATUS_NUMBER',
  'DYNAMIC_METADATA',
  'CLUSTER_METADATA',
  'UPSTREAM_METADATA',
  'FILTER_STATE',
  'UPSTREAM_FILTER_STATE',
  'CEL',
  'METADATA',
  'REQUEST_DURATION',
  'REQUEST_TX_DURATION',
  'RESPONSE_DURATION',
  'RESPONSE_TX_DURATION',
  'DOWNSTREAM_HANDSHAKE_DURATION',
  'ROUNDTRIP_DURATION',
  'UPSTREAM_REQUEST_ATTEMPT_COUNT',
  'UPSTREAM_WIRE_BYTES_SENT',
  'UPSTREAM_WIRE_BYTES_RECEIVED',
  'DOWNSTREAM_WIRE_BYTES_SENT',
  'DOWNSTREAM_WIRE_BYTES_RECEIVED',
  'REQUEST_HEADERS_BYTES',
  'RESPONSE_HEADERS_BYTES',
  'RESPONSE_TRAILERS_BYTES',
  'RESPONSE_FLAGS_LONG',
  'CONNECTION_ID',
  'UPSTREAM_CONNECTION_ID',
  'STREAM_ID',
  'UNIQUE_ID',
  'VIRTUAL_CLUSTER_NAME',
  'DOWNSTREAM_PEER_URI_SAN',
  'DOWNSTREAM_PEER_DNS_SAN',
  'DOWNSTREAM_PEER_IP_SAN',
  'DOWNSTREAM_LOCAL_URI_SAN',
  'DOWNSTREAM_LOCAL_DNS_SAN',
  'DOWNSTREAM_LOCAL_IP_SAN',
  'DOWNSTREAM_PEER_SUBJECT',
  'DOWNSTREAM_LOCAL_SUBJECT',
  'DOWNSTREAM_PEER_ISSUER',
  'DOWNSTREAM_TLS_SESSION_ID',
  'DOWNSTREAM_TLS_CIPHER',
  'DOWNSTREAM_TLS_VERSION',
  'DOWNSTREAM_PEER_FINGERPRINT_256',
  'DOWNSTREAM_PEER_FINGERPRINT_1',
  'DOWNSTREAM_PEER_SERIAL',
  'DOWNSTREAM_PEER_CERT',
  'DOWNSTREAM_PEER_CERT_V_START',
  'DOWNSTREAM_PEER_CERT_V_END',
  'UPSTREAM_PEER_URI_SAN',
  'UPSTREAM_PEER_DNS_SAN',
  'UPSTREAM_PEER_IP_SAN',
  'UPSTREAM_LOCAL_URI_SAN',
  'UPSTREAM_LOCAL_DNS_SAN',
  'UPSTREAM_LOCAL_IP_SAN',
  'UPSTREAM_PEER_SUBJECT',
  'UPSTREAM_LOCAL_SUBJECT',
  'UPSTREAM_PEER_ISSUER',
  'UPSTREAM_TLS_SESSION_ID',
  'UPSTREAM_TLS_CIPHER',
  'UPSTREAM_TLS_VERSION',
  'UPSTREAM_PEER_CERT',
  'UPSTREAM_PEER_CERT_V_START',
  'UPSTREAM_PEER_CERT_V_END',
  'ENVIRONMENT',
  'LOCAL_REPLY_BODY',
  'ACCESS_LOG_TYPE',
  'TRACE_ID',
]);

/** Request headers the proxy rewrites or makes up: the record holds what Envoy would log for them. */
const REQUEST_FROM_RECORD: Readonly<Record<string, Getter>> = {
  ':method': field('method'),
  ':path': field('path'),
  ':authority': field('authority'),
  host: field('authority'),
  'x-request-id': field('request_id'),
  'x-forwarded-for': field('x_forwarded_for'),
  'user-agent': field('user_agent'),
  // Set when a route rewrites the path; the record's path is the one the client sent, which the usual
  // "X-ENVOY-ORIGINAL-PATH?:PATH" pair is there to log.
  'x-envoy-original-path': () => undefined,
};

const RESPONSE_FROM_RECORD: Readonly<Record<string, Getter>> = {
  'x-envoy-upstream-service-time': field('upstream_service_time'),
};

function headerValue(lines: readonly string[] | undefined, name: string): string | undefined {
  if (lines === undefined) return undefined;
  for (let i = 0; i + 1 < lines.length; i += 2) {
    if (lines[i]!.length === name.length && lines[i]!.toLowerCase() === name) return lines[i + 1];
  }
  return undefined;
}

/** A header value as a log shows text: bytes read as UTF-8, as the record's own values are. */
function asText(v: string | undefined): string | undefined {
  return v === undefined ? undefined : Buffer.from(v, 'latin1').toString('utf8');
}

function headerGetter(side: 'request' | 'response', name: string): Getter {
  const fromRecord = (side === 'request' ? REQUEST_FROM_RECORD : RESPONSE_FROM_RECORD)[name];
  if (fromRecord) return fromRecord;
  if (side === 'request' && name === ':scheme') return () => 'http';
  if (name.startsWith(':')) return () => undefined;
  return (_r, h) => asText(headerValue(h[side], name));
}

/** REQ(X?Y), RESP(X?Y): the first header present; REQ_WITHOUT_QUERY drops a query from the value. */
function headersCommand(command: string, arg: string): Getter | FormatProblem {
  const names = arg.split('?');
  if (arg === '' || names.length > 2 || names.some((n) => n === '')) {
    return { message: `%${command}(${arg})% needs a header name, or two joined by "?"` };
  }
  const side = command === 'RESP' ? 'response' : 'request';
  const getters = names.map((n) => headerGetter(side, n.toLowerCase()));
  const first: Getter =
    getters.length === 1
      ? getters[0]!
      : (r, h) => {
          const v = getters[0]!(r, h);
          return v === undefined || v === '' ? getters[1]!(r, h) : v;
        };
  if (command !== 'REQ_WITHOUT_QUERY') return first;
  return (r, h) => {
    const v = first(r, h);
    if (typeof v !== 'string') return v;
    const q = v.indexOf('?');
    return q < 0 ? v : v.slice(0, q);
  };
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

const TIME_FIELDS: Readonly<Record<string, (d: Date) => string>> = {
  Y: (d) => String(d.getUTCFullYear()),
  m: (d) => pad(d.getUTCMonth() + 1, 2),
  d: (d) => pad(d.getUTCDate(), 2),
  H: (d) => pad(d.getUTCHours(), 2),
  M: (d) => pad(d.getUTCMinutes(), 2),
  S: (d) => pad(d.getUTCSeconds(), 2),
  F: (d) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`,
  T: (d) => `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`,
  s: (d) => String(Math.floor(d.getTime() / 1000)),
  z: () => '+0000',
  Z: () => 'UTC',
};

/** START_TIME(FORMAT): strftime's common specifiers in UTC, and Envoy's %s and %1f to %9f (%f: 9 digits). */
function startTimeCommand(arg: string): Getter | FormatProblem {
  const pieces: ((d: Date) => string)[] = [];
  let text = '';
  const flush = (): void => {
    if (text === '') return;
    const t = text;
    pieces.push(() => t);
    text = '';
  };
  for (let i = 0; i < arg.length; i++) {
    const c = arg[i]!;
    if (c !== '%') {
      text += c;
      continue;
    }
    const spec = arg[i + 1];
    const digits = spec !== undefined && spec >= '1' && spec <= '9' && arg[i + 2] === 'f' ? Number(spec) : 0;
    if (digits > 0 || spec === 'f') {
      const n = digits || 9;
      flush();
      pieces.push((d) => pad(d.getUTCMilliseconds(), 3).padEnd(9, '0').slice(0, n));
      i += digits > 0 ? 2 : 1;
      continue;
    }
    if (spec === '%') {
      text += '%';
      i++;
      continue;
    }
    const fn = spec === undefined ? undefined : TIME_FIELDS[spec];
    if (!fn) return { message: `%START_TIME(${arg})%: %${spec ?? ''} is not a time field tollgate writes` };
    flush();
    pieces.push(fn);
    i++;
  }
  flush();
  return (r) => {
    if (r.start_time === undefined) return undefined;
    const d = new Date(r.start_time);
    let out = '';
    for (const p of pieces) out += p(d);
    return out;
  };
}

interface Part {
  readonly get: Getter;
}

/** One format string: its literal text and commands, in order; an error names the position. */
function parseFormatString(format: string, unsupported: Set<string>): (string | Part)[] | FormatProblem {
  const parts: (string | Part)[] = [];
  let text = '';
  const command = /^%([A-Z0-9_]+)(?:\(([^)]*)\))?(?::([0-9]+))?%/;
  for (let pos = 0; pos < format.length; ) {
    const c = format[pos]!;
    if (c !== '%') {
      text += c;
      pos++;
      continue;
    }
    if (format[pos + 1] === '%') {
      text += '%';
      pos += 2;
      continue;
    }
    const m = command.exec(format.slice(pos));
    if (!m)
      return {
        message: `no command at position ${pos} (a command is %NAME%, %NAME(ARG)% or %NAME(ARG):MAX%; %% is a literal %)`,
      };
    if (text !== '') parts.push(text);
    text = '';
    const [token, name, arg, max] = m as unknown as [string, string, string | undefined, string | undefined];
    let get: Getter | FormatProblem;
    if (name === 'REQ' || name === 'RESP' || name === 'REQ_WITHOUT_QUERY') get = headersCommand(name, arg ?? '');
    else if (name === 'START_TIME' && arg !== undefined && arg !== '') get = startTimeCommand(arg);
    else if (PLAIN[name]) get = PLAIN[name]!;
    else if (UNSUPPORTED.has(name)) {
      unsupported.add(name);
      get = () => undefined;
    } else return { message: `${token}: no such command (Envoy would refuse the format)` };
    if ('message' in get) return get;
    const limit = max === undefined ? undefined : Number(max);
    const g = get;
    parts.push({
      get:
        limit === undefined
          ? g
          : (r, h) => {
              const v = g(r, h);
              return typeof v === 'string' ? v.slice(0, limit) : v;
            },
    });
    pos += token.length;
  }
  if (text !== '') parts.push(text);
  return parts;
}

const shown = (v: Value): string | number => (v === undefined || v === '' ? UNSET : v);

function textFormat(parts: readonly (string | Part)[]): LineFormat {
  return (r, h) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : shown(p.get(r, h));
    return out;
  };
}

/** A JSON value of the format: a format string (one numeric command alone stays a number), or nested fields. */
type JsonValue = (r: AccessLogRecord, h: LogHeaders) => unknown;

function jsonValue(v: unknown, path: string, unsupported: Set<string>): JsonValue | FormatProblem {
  if (typeof v === 'string') {
    const parts = parseFormatString(v, unsupported);
    if ('message' in parts) return { message: `${path}: ${parts.message}` };
    const only = parts.length === 1 ? parts[0] : undefined;
    if (only !== undefined && typeof only !== 'string') return (r, h) => shown(only.get(r, h));
    const text = textFormat(parts);
    return (r, h) => text(r, h);
  }
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const entries: [string, JsonValue][] = [];
    for (const [k, inner] of Object.entries(v)) {
      const compiled = jsonValue(inner, `${path}.${k}`, unsupported);
      if ('message' in compiled) return compiled;
      entries.push([k, compiled]);
    }
    return (r, h) => {
      const out: Record<string, unknown> = {};
      for (const [k, get] of entries) out[k] = get(r, h);
      return out;
    };
  }
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return () => v;
  return { message: `${path}: a list is not a format value` };
}

/**
 * Compiles meshConfig.accessLogFormat for an encoding, as Istio hands it to Envoy: TEXT, a format string (one
 * trailing newline dropped: every line gets one); JSON, an object of keys to format strings, written in its order.
 */
export function compileLogFormat(format: string, encoding: 'JSON' | 'TEXT'): CompiledFormat | FormatProblem {
  const unsupported = new Set<string>();
  if (encoding === 'TEXT') {
    const parts = parseFormatString(format.endsWith('\n') ? format.slice(0, -1) : format, unsupported);
    if ('message' in parts) return parts;
    return { format: textFormat(parts), unsupported: [...unsupported] };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(format);
  } catch (err) {
    return { message: `with accessLogEncoding JSON the format must be a JSON object: ${(err as Error).message}` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { message: 'with accessLogEncoding JSON the format must be a JSON object of keys to format strings' };
  }
  const value = jsonValue(parsed, 'accessLogFormat', unsupported);
  if ('message' in value) return value;
  return { format: (r, h) => JSON.stringify(value(r, h)), unsupported: [...unsupported] };
}
