import type { AccessLogRecord } from '../access-log.js';

/** A forwarded request's record, every kind of value in it: set, unset, numbers. */
export const RECORD: AccessLogRecord = {
  start_time: '2024-05-06T07:08:09.010Z',
  route_name: 'allow_any',
  method: 'GET',
  path: '/',
  protocol: 'HTTP/1.1',
  response_code: 301,
  response_flags: '-',
  response_code_details: 'via_upstream',
  connection_termination_details: undefined,
  bytes_received: 0,
  bytes_sent: 239,
  duration: 12,
  upstream_service_time: '11',
  x_forwarded_for: undefined,
  user_agent: 'curl/8.5.0',
  request_id: 'abc',
  authority: 'aliyun.com',
  upstream_host: '106.11.249.99:80',
  upstream_cluster: 'PassthroughCluster',
  upstream_local_address: '127.0.0.2:40000',
  downstream_local_address: '127.0.0.2:15001',
  downstream_remote_address: '127.0.0.2:50000',
  requested_server_name: undefined,
  upstream_transport_failure_reason: undefined,
};
