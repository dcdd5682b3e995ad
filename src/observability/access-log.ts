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
export type NumericAccessLogField = 'response_code' | 'bytes_received' | 'bytes_sent' | 'duration';

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

/** Each field's `"key":` with the separator before it, built once: a line is then one concatenation. */
const JSON_KEYS = ACCESS_LOG_FIELDS.map((key, i) => `${i === 0 ? '{' : ','}${JSON.stringify(key)}:`);

/** The same text as JSON.stringify of the record with unset fields as "-", without building an object first. */
export function formatAccessLogJson(record: AccessLogRecord): string {
  let line = '';
  for (let i = 0; i < ACCESS_LOG_FIELDS.length; i++) {
    const v = orUnset(record[ACCESS_LOG_FIELDS[i]!]);
    line += JSON_KEYS[i]! + (typeof v === 'number' ? String(v) : JSON.stringify(v));
  }
  return `${line}}`;
}

/** Istio's EnvoyTextLogFormat, without the trailing newline. */
export function formatAccessLogText(r: AccessLogRecord): string {
  const s = (v: string | undefined): string => orUnset(v);
  return (
    `[${s(r.start_time)}] "${s(r.method)} ${s(r.path)} ${s(r.protocol)}" ${r.response_code} ${s(r.response_flags)} ` +
    `${s(r.response_code_details)} ${s(r.connection_termination_details)} ` +
    `"${s(r.upstream_transport_failure_reason)}" ${r.bytes_received} ${r.bytes_sent} ` +
    `${r.duration} ${s(r.upstream_service_time)} "${s(r.x_forwarded_for)}" ` +
    `"${s(r.user_agent)}" "${s(r.request_id)}" "${s(r.authority)}" "${s(r.upstream_host)}" ` +
    `${s(r.upstream_cluster)} ${s(r.upstream_local_address)} ${s(r.downstream_local_address)} ` +
    `${s(r.downstream_remote_address)} ${s(r.requested_server_name)} ${s(r.route_name)}`
  );
}

export function formatAccessLog(record: AccessLogRecord, encoding: AccessLogEncoding): string {
  return encoding === 'JSON' ? formatAccessLogJson(record) : formatAccessLogText(record);
}

/** Envoy's %START_TIME% default: ISO 8601 in UTC with milliseconds. */
export function formatStartTime(epochMs: number): string {
  // Requests that start in the same millisecond share the text (a busy proxy sees many).
  if (epochMs !== lastStart.ms) lastStart = { ms: epochMs, text: new Date(epochMs).toISOString() };
  return lastStart.text;
}

let lastStart = { ms: Number.NaN, text: '' };
