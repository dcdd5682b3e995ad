// The data plane's error catalog: every way a request can fail, with the response Envoy would give.
// rescue.ts is the only place that turns these into responses; everything else throws or rejects with a
// ProxyError. Bodies and details strings follow Envoy's router and HTTP connection manager.
import type { ResponseFlag } from '../observability/index.js';

export type ErrorSource = 'upstream' | 'downstream' | 'internal' | 'config';

export type ProxyErrorCode =
  | 'route_not_found'
  | 'cluster_not_found'
  | 'no_healthy_upstream'
  | 'request_loop'
  | 'dns_resolution_failure'
  | 'upstream_overflow'
  | 'upstream_connection_failure'
  | 'upstream_connect_timeout'
  | 'upstream_connection_termination'
  | 'upstream_response_timeout'
  | 'upstream_per_try_timeout'
  | 'upstream_reset_after_response_started'
  | 'downstream_disconnect'
  | 'fault_abort'
  | 'downstream_protocol_error'
  | 'downstream_headers_too_large'
  | 'missing_host_header'
  | 'connect_not_supported'
  | 'internal_error';

export interface ErrorSpec {
  readonly status: number;
  readonly flag: ResponseFlag | undefined;
  readonly details: string;
  readonly body: string;
  readonly source: ErrorSource;
  /** Envoy retry_on conditions under which a failed attempt with this error is retried. */
  readonly retryOn: readonly string[];
}

const RESET_BODY = 'upstream connect error or disconnect/reset before headers. reset reason: ';
const RESET_RETRY_ON = ['5xx', 'gateway-error', 'reset'] as const;
const CONNECT_RETRY_ON = ['connect-failure', ...RESET_RETRY_ON] as const;

export const ERROR_CATALOG: Readonly<Record<ProxyErrorCode, ErrorSpec>> = Object.freeze({
  route_not_found: spec(404, 'NR', 'route_not_found', '', 'config'),
  cluster_not_found: spec(503, 'NC', 'cluster_not_found', '', 'config'),
  no_healthy_upstream: spec(503, 'UH', 'no_healthy_upstream', 'no healthy upstream', 'upstream'),
  // Istio's loop guard sends traffic addressed to the proxy itself to BlackHoleCluster (no hosts: UH). The
  // details say why, instead of a bare no_healthy_upstream.
  request_loop: spec(503, 'UH', 'request_loop_to_this_proxy', 'request loop: the destination is this proxy', 'config'),
  dns_resolution_failure: spec(503, 'DF', 'dns_resolution_failure', 'dns resolution failure', 'upstream'),
  upstream_overflow: spec(
    503,
    'UO',
    'upstream_reset_before_response_started{overflow}',
    `${RESET_BODY}overflow`,
    'upstream',
  ),
  upstream_connection_failure: spec(
    503,
    'UF',
    'upstream_reset_before_response_started{connection_failure}',
    `${RESET_BODY}connection failure`,
    'upstream',
    CONNECT_RETRY_ON,
  ),
  upstream_connect_timeout: spec(
    503,
    'UF',
    'upstream_reset_before_response_started{connection_timeout}',
    `${RESET_BODY}connection timeout`,
    'upstream',
    CONNECT_RETRY_ON,
  ),
  upstream_connection_termination: spec(
    503,
    'UC',
    'upstream_reset_before_response_started{connection_termination}',
    `${RESET_BODY}connection termination`,
    'upstream',
    RESET_RETRY_ON,
  ),
  upstream_response_timeout: spec(504, 'UT', 'response_timeout', 'upstream request timeout', 'upstream'),
  upstream_per_try_timeout: spec(504, 'UT', 'upstream_per_try_timeout', 'upstream request timeout', 'upstream', [
    '5xx',
    'gateway-error',
  ]),
  upstream_reset_after_response_started: spec(
    0,
    'UC',
    'upstream_reset_after_response_started{connection_termination}',
    '',
    'upstream',
  ),
  downstream_disconnect: spec(0, 'DC', 'downstream_remote_disconnect', '', 'downstream'),
  fault_abort: spec(503, 'FI', 'fault_filter_abort', 'fault filter abort', 'internal'),
  downstream_protocol_error: spec(400, 'DPE', 'http1.codec_error', 'Bad Request', 'downstream'),
  downstream_headers_too_large: spec(
    431,
    'DPE',
    'http1.headers_too_large',
    'Request Header Fields Too Large',
    'downstream',
  ),
  missing_host_header: spec(400, 'DPE', 'missing_host_header', 'Bad Request', 'downstream'),
  // Not Envoy's: CONNECT needs a tunnel (roadmap item 3); until then it is refused explicitly.
  connect_not_supported: spec(
    501,
    undefined,
    'connect_not_supported',
    'CONNECT tunnelling is not supported yet',
    'internal',
  ),
  internal_error: spec(500, undefined, 'internal_error', 'internal error', 'internal'),
});

function spec(
  status: number,
  flag: ResponseFlag | undefined,
  details: string,
  body: string,
  source: ErrorSource,
  retryOn: readonly string[] = [],
): ErrorSpec {
  return Object.freeze({ status, flag, details, body, source, retryOn });
}

export class ProxyError extends Error {
  readonly code: ProxyErrorCode;
  /** Overrides the catalog status (fault aborts carry their configured status). */
  readonly status: number | undefined;
  /** True once part of the downstream request body was sent upstream: the attempt cannot be replayed. */
  bodySent = false;

  constructor(code: ProxyErrorCode, message?: string, options?: { cause?: unknown; status?: number }) {
    super(message ?? code, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProxyError';
    this.code = code;
    this.status = options?.status;
  }

  get spec(): ErrorSpec {
    return ERROR_CATALOG[this.code];
  }
}

/** An error in a pushed config; the message names the offending field. */
export class ConfigError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = 'ConfigError';
  }
}
