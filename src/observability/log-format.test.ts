import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AccessLogRecord, formatAccessLog } from './access-log.js';
import { compileLogFormat, type LogHeaders } from './log-format.js';
import { RECORD } from './testing/fixtures.js';

const record: AccessLogRecord = {
  ...RECORD,
  path: '/search?q=1',
  upstream_cluster: 'outbound|80||aliyun.com',
  downstream_remote_address: '[::1]:50000',
};

const headers: LogHeaders = {
  request: ['Host', 'aliyun.com', 'X-Tenant', 'blue', 'X-Tenant', 'green', 'X-Caf\u00c3\u00a9', 'caf\u00c3\u00a9'],
  response: ['Content-Type', 'text/html', 'Location', 'https://aliyun.com/'],
};

function line(format: string, encoding: 'JSON' | 'TEXT' = 'TEXT', r = record, h = headers): string {
  const compiled = compileLogFormat(format, encoding);
  if ('message' in compiled) throw new Error(compiled.message);
  return compiled.format(r, h);
}

/** pilot's EnvoyTextLogFormat and EnvoyJSONLogFormatIstio (telemetry_logging.go). */
const ISTIO_TEXT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ' +
  '%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% ' +
  '%BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" ' +
  '"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% ' +
  '%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n';
const ISTIO_JSON = JSON.stringify({
  start_time: '%START_TIME%',
  route_name: '%ROUTE_NAME%',
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  protocol: '%PROTOCOL%',
  response_code: '%RESPONSE_CODE%',
  response_flags: '%RESPONSE_FLAGS%',
  response_code_details: '%RESPONSE_CODE_DETAILS%',
  connection_termination_details: '%CONNECTION_TERMINATION_DETAILS%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  duration: '%DURATION%',
  upstream_service_time: '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%',
  x_forwarded_for: '%REQ(X-FORWARDED-FOR)%',
  user_agent: '%REQ(USER-AGENT)%',
  request_id: '%REQ(X-REQUEST-ID)%',
  authority: '%REQ(:AUTHORITY)%',
  upstream_host: '%UPSTREAM_HOST%',
  upstream_cluster: '%UPSTREAM_CLUSTER_RAW%',
  upstream_local_address: '%UPSTREAM_LOCAL_ADDRESS%',
  downstream_local_address: '%DOWNSTREAM_LOCAL_ADDRESS%',
  downstream_remote_address: '%DOWNSTREAM_REMOTE_ADDRESS%',
  requested_server_name: '%REQUESTED_SERVER_NAME%',
  upstream_transport_failure_reason: '%UPSTREAM_TRANSPORT_FAILURE_REASON%',
});

describe('meshConfig.accessLogFormat', () => {
  it("Istio's own default formats, written as formats, give the default lines", () => {
    assert.equal(line(ISTIO_TEXT), formatAccessLog(record, 'TEXT'));
    assert.equal(line(ISTIO_JSON, 'JSON'), formatAccessLog(record, 'JSON'));
    const unset: AccessLogRecord = { ...record, route_name: '', upstream_host: undefined, user_agent: undefined };
    assert.equal(line(ISTIO_TEXT, 'TEXT', unset), formatAccessLog(unset, 'TEXT'));
    assert.equal(line(ISTIO_JSON, 'JSON', unset), formatAccessLog(unset, 'JSON'));
  });

  it('headers: the first line of a name in any case, an alternative, a length limit, UTF-8 text', () => {
    assert.equal(line('%REQ(x-tenant)% %REQ(X-MISSING?X-TENANT)% %REQ(X-TENANT):3%'), 'blue blue blu');
    assert.equal(line('%RESP(CONTENT-TYPE)% %RESP(X-NONE)% %RESP(LOCATION):8%'), 'text/html - https://');
    assert.equal(line('%REQ(x-caf\u00c3\u00a9)%'), 'caf\u00e9');
    // No response (a local reply): every response header is unset.
    assert.equal(line('%RESP(CONTENT-TYPE)%', 'TEXT', record, { request: headers.request, response: undefined }), '-');
  });

  it('values the proxy sets or rewrites come from the record: request id, XFF, the path, the service time', () => {
    assert.equal(
      line(
        '%REQ(X-REQUEST-ID)% %REQ(:PATH)% %REQ_WITHOUT_QUERY(X-ENVOY-ORIGINAL-PATH?:PATH)% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%',
      ),
      'abc /search?q=1 /search 11',
    );
    assert.equal(line('%REQ(:SCHEME)% %REQ(:METHOD)% %REQ(HOST)%'), 'http GET aliyun.com');
  });

  it('addresses without ports, a literal %, start time in a strftime format', () => {
    assert.equal(
      line('%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %UPSTREAM_HOST% %UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% 100%%'),
      '::1 106.11.249.99:80 106.11.249.99 100%',
    );
    assert.equal(line('%START_TIME(%Y/%m/%d %H:%M:%S.%3f %z %s)%'), '2024/05/06 07:08:09.010 +0000 1714979289');
    assert.equal(line('%START_TIME(%FT%T.%6fZ)%'), '2024-05-06T07:08:09.010000Z');
  });

  it('JSON: a command alone keeps its type, text around one makes a string, nested objects and constants stay', () => {
    const parsed = JSON.parse(
      line(
        JSON.stringify({
          code: '%RESPONSE_CODE%',
          said: 'code %RESPONSE_CODE%',
          tenant: '%REQ(X-TENANT)%',
          none: '%REQ(X-NONE)%',
          peer: { ip: '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%', bytes: '%BYTES_SENT%' },
          version: 2,
          audit: true,
        }),
        'JSON',
      ),
    );
    assert.deepEqual(parsed, {
      code: 301,
      said: 'code 301',
      tenant: 'blue',
      none: '-',
      peer: { ip: '::1', bytes: 239 },
      version: 2,
      audit: true,
    });
  });

  it('TEXT: one trailing newline is the line end; others stay in the line', () => {
    assert.equal(line('%RESPONSE_CODE%\n'), '301');
    assert.equal(line('%RESPONSE_CODE%\n\n'), '301\n');
  });

  it('refuses what Envoy refuses, and names the place', () => {
    const problem = (format: string, encoding: 'JSON' | 'TEXT' = 'TEXT'): string => {
      const c = compileLogFormat(format, encoding);
      assert.ok('message' in c, `${format} compiled`);
      return c.message;
    };
    assert.match(problem('%NOPE%'), /%NOPE%: no such command/);
    assert.match(problem('ok %oops'), /no command at position 3/);
    assert.match(problem('%REQ()%'), /needs a header name/);
    assert.match(problem('%REQ(A?B?C)%'), /needs a header name/);
    assert.match(problem('%START_TIME(%Q)%'), /%Q is not a time field/);
    assert.match(problem('[%START_TIME%]', 'JSON'), /must be a JSON object/);
    assert.match(problem('["%START_TIME%"]', 'JSON'), /must be a JSON object/);
    assert.match(problem('{"a": {"b": "%NOPE%"}}', 'JSON'), /accessLogFormat\.a\.b: %NOPE%: no such command/);
    assert.match(problem('{"a": ["%START_TIME%"]}', 'JSON'), /accessLogFormat\.a: a list/);
  });

  it('commands Envoy has and tollgate does not keep are written "-" and listed once', () => {
    const c = compileLogFormat(
      '%DOWNSTREAM_PEER_URI_SAN% %GRPC_STATUS% %DOWNSTREAM_PEER_URI_SAN% %RESPONSE_CODE%',
      'TEXT',
    );
    assert.ok(!('message' in c));
    assert.deepEqual(c.unsupported, ['DOWNSTREAM_PEER_URI_SAN', 'GRPC_STATUS']);
    assert.equal(c.format(record, headers), '- - - 301');
  });
});
