// One canonical access-log record per request, rendered in Istio's default formats.
// Field catalog and operators: istio/istio pilot/pkg/model/telemetry_logging.go (EnvoyJSONLogFormatIstio and
// EnvoyTextLogFormat). The JSON key order is the order the fields are declared there.

/** Istio's default JSON access-log keys, in pilot's declaration order. */
export const ACCESS_LOG_FIELDS = [
  'start_time', // %START_TIME%
  'route_name', // %ROUTE_NAME%
  'method', // %REQ(:METHOD)%
  'path', // %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%
  'protocol', // %PROTOCOL%
  'response_code', // %RESPONSE_CODE%
  'response_flags', // %RESPONSE_FLAGS%
  'response_code_details', // %RESPONSE_CODE_DETAILS%
  'connection_termination_details', // %CONNECTION_TERMINATION_DETAILS%
  'bytes_received', // %BYTES_RECEIVED%
  'bytes_sent', // %BYTES_SENT%
  'duration', // %DURATION%
  'upstream_service_time', // %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
  'x_forwarded_for', // %REQ(X-FORWARDED-FOR)%
  'user_agent', // %REQ(USER-AGENT)%
  'request_id', // %REQ(X-REQUEST-ID)%
  'authority', // %REQ(:AUTHORITY)%
  'upstream_host', // %UPSTREAM_HOST%
  'upstream_cluster', // %UPSTREAM_CLUSTER_RAW%
  'upstream_local_address', // %UPSTREAM_LOCAL_ADDRESS%
  'downstream_local_address', // %DOWNSTREAM_LOCAL_ADDRESS%
  'downstream_remote_address', // %DOWNSTREAM_REMOTE_ADDRESS%
  'requested_server_name', // %REQUESTED_SERVER_NAME%
  'upstream_transport_failure_reason', // %UPSTREAM_TRANSPORT_FAILURE_REASON%
] as const;

export type AccessLogField = (typeof ACCESS_LOG_FIELDS)[number];

/** Fields Envoy renders as JSON numbers; every other field is a string. */
const NUMERIC_ACCESS_LOG_FIELDS = [
  'response_code',
  'bytes_received',
  'bytes_sent',
  'duration',
] as const satisfies readonly AccessLogField[];

export type NumericAccessLogField = (typeof NUMERIC_ACCESS_LOG_FIELDS)[number];

/** One request, as the access log sees it. An undefined string renders as "-". */
export type AccessLogRecord = {
  readonly [K in AccessLogField]: K extends NumericAccessLogField ? number : string | undefined;
};

export type AccessLogEncoding = 'JSON' | 'TEXT';

/** What Envoy prints for a value that is not set — or set but empty, such as the name of an unnamed route. */
export const UNSET = '-';

function orUnset<T extends string | number>(v: T | undefined): T | typeof UNSET {
  return v === undefined || v === '' ? UNSET : v;
}

/**
 * The fixed text around each value, built once: before field i, the previous value's closing quote (when it is a
 * string), the separator, the key and this value's opening quote (when it is a string); last, what closes the line.
 * A line is then these pieces and the values, joined once.
 */
const JSON_GLUE: readonly string[] = (() => {
  const numeric = new Set<AccessLogField>(NUMERIC_ACCESS_LOG_FIELDS);
  const glue: string[] = [];
  let openString = false;
  ACCESS_LOG_FIELDS.forEach((key, i) => {
    const quote = numeric.has(key) ? '' : '"';
    glue.push(`${openString ? '"' : ''}${i === 0 ? '{' : ','}${JSON.stringify(key)}:${quote}`);
    openString = quote !== '';
  });
  glue.push(`${openString ? '"' : ''}}`);
  return glue;
})();

/**
 * What JSON.stringify escapes in a string: the quote, the backslash, control characters, and surrogates (a lone
 * one is escaped; a string with any takes the slow way). Other strings go in as they are.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what must be escaped
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify's escaping of a string, without its quotes; most values go in as they are. */
function escaped(v: string): string {
  return NEEDS_ESCAPE.test(v) ? JSON.stringify(v).slice(1, -1) : v;
}

/**
 * The value last seen at each field of the line, and its escaped text. Many fields repeat from line to line (the
 * route, the cluster, the upstream host, a connection's addresses): such a value is compared, not scanned again.
 */
const LAST_VALUE: (string | undefined)[] = [];
const LAST_ESCAPED: string[] = [];

/** Puts a string field's text ("-" when unset) at `slot` of PIECES (field i at 2i + 1). */
function putText(slot: number, v: string | undefined): void {
  if (v === undefined || v === '') PIECES[slot] = UNSET;
  else if (v === LAST_VALUE[slot]) PIECES[slot] = LAST_ESCAPED[slot]!;
  else {
    const out = escaped(v);
    LAST_VALUE[slot] = v;
    LAST_ESCAPED[slot] = out;
    PIECES[slot] = out;
  }
}

/**
 * The line's pieces: the glue at even indexes, set once; each line writes its values at the odd ones and joins
 * them. One array for every line (formatting is synchronous), read field by field with static property reads.
 */
const PIECES: (string | number)[] = (() => {
  const pieces = new Array<string | number>(2 * JSON_GLUE.length - 1).fill('');
  JSON_GLUE.forEach((glue, i) => {
    pieces[2 * i] = glue;
  });
  return pieces;
})();

/**
 * The same text as JSON.stringify of the record with unset fields as "-", without building an object first. The
 * pieces are joined once, so the line is one flat string: concatenation would leave a tree of fragments, which the
 * log buffer and the pending batch then keep alive (and the garbage collector walks) for seconds.
 */
export function formatAccessLogJson(r: AccessLogRecord): string {
  const p = PIECES;
  // The odd indexes follow ACCESS_LOG_FIELDS (field i at 2i + 1); the tests hold this against JSON.stringify.
  putText(1, r.start_time);
  putText(3, r.route_name);
  putText(5, r.method);
  putText(7, r.path);
  putText(9, r.protocol);
  p[11] = r.response_code;
  putText(13, r.response_flags);
  putText(15, r.response_code_details);
  putText(17, r.connection_termination_details);
  p[19] = r.bytes_received;
  p[21] = r.bytes_sent;
  p[23] = r.duration;
  putText(25, r.upstream_service_time);
  putText(27, r.x_forwarded_for);
  putText(29, r.user_agent);
  putText(31, r.request_id);
  putText(33, r.authority);
  putText(35, r.upstream_host);
  putText(37, r.upstream_cluster);
  putText(39, r.upstream_local_address);
  putText(41, r.downstream_local_address);
  putText(43, r.downstream_remote_address);
  putText(45, r.requested_server_name);
  putText(47, r.upstream_transport_failure_reason);
  return p.join('');
}

/** Istio's EnvoyTextLogFormat, without the trailing newline; one flat string, as the JSON line. */
export function formatAccessLogText(r: AccessLogRecord): string {
  const s = (v: string | undefined): string => orUnset(v);
  return [
    '[',
    s(r.start_time),
    '] "',
    s(r.method),
    ' ',
    s(r.path),
    ' ',
    s(r.protocol),
    '" ',
    r.response_code,
    ' ',
    s(r.response_flags),
    ' ',
    s(r.response_code_details),
    ' ',
    s(r.connection_termination_details),
    ' "',
    s(r.upstream_transport_failure_reason),
    '" ',
    r.bytes_received,
    ' ',
    r.bytes_sent,
    ' ',
    r.duration,
    ' ',
    s(r.upstream_service_time),
    ' "',
    s(r.x_forwarded_for),
    '" "',
    s(r.user_agent),
    '" "',
    s(r.request_id),
    '" "',
    s(r.authority),
    '" "',
    s(r.upstream_host),
    '" ',
    s(r.upstream_cluster),
    ' ',
    s(r.upstream_local_address),
    ' ',
    s(r.downstream_local_address),
    ' ',
    s(r.downstream_remote_address),
    ' ',
    s(r.requested_server_name),
    ' ',
    s(r.route_name),
  ].join('');
}

export function formatAccessLog(record: AccessLogRecord, encoding: AccessLogEncoding): string {
  return encoding === 'JSON' ? formatAccessLogJson(record) : formatAccessLogText(record);
}

/** Envoy's %START_TIME% default: ISO 8601 in UTC with milliseconds. */
export function formatStartTime(epochMs: number): string {
  // Requests that start in the same millisecond share the text, and those in the same second its date and time:
  // a busy proxy sees many of either, and Date#toISOString is the costly part.
  if (epochMs === lastStart.ms) return lastStart.text;
  let text: string;
  if (Number.isInteger(epochMs) && epochMs >= 0 && epochMs < LAST_FOUR_DIGIT_YEAR_MS) {
    const second = epochMs - (epochMs % 1000);
    if (second !== lastSecond.ms) lastSecond = { ms: second, text: new Date(second).toISOString().slice(0, 20) };
    const ms = epochMs - second;
    text = `${lastSecond.text}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
  } else text = new Date(epochMs).toISOString();
  lastStart = { ms: epochMs, text };
  return text;
}

/** Past the year 9999 the ISO form grows a sign and two digits: such instants take the whole conversion. */
const LAST_FOUR_DIGIT_YEAR_MS = Date.UTC(10_000, 0, 1);
let lastStart = { ms: Number.NaN, text: '' };
/** "YYYY-MM-DDTHH:MM:SS." of the last whole second formatted. */
let lastSecond = { ms: Number.NaN, text: '' };
