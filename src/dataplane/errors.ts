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
  | 'downstream_request_timeout'
  | 'missing_host_header'
  | 'http10_not_accepted'
  | 'invalid_request_target'
  | 'invalid_authority'
  | 'invalid_path'
  | 'upgrade_not_allowed'
  | 'protected_destination'
  | 'connect_refused_by_policy'
  | 'connect_bad_authority'
  | 'filter_chain_not_found'
  | 'upstream_tls_failure'
  | 'downstream_tls_failure'
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
  // The request headers did not arrive in time (Envoy's request_headers_timeout; Node's headersTimeout).
  downstream_request_timeout: spec(408, undefined, 'request_headers_timeout', 'request timeout', 'downstream'),
  // Istio leaves Envoy's accept_http_10 off: HTTP/1.0 gets 426 Upgrade Required.
  http10_not_accepted: spec(426, undefined, 'low_version', 'Upgrade Required', 'downstream'),
  invalid_request_target: spec(400, 'DPE', 'http1.invalid_url', 'Bad Request', 'downstream'),
  invalid_authority: spec(400, 'DPE', 'http.invalid_authority', 'Bad Request', 'downstream'),
  invalid_path: spec(400, 'DPE', 'path_normalization_failed', 'Bad Request', 'downstream'),
  // Upgrades other than those configured (WebSocket): Envoy refuses them.
  upgrade_not_allowed: spec(403, undefined, 'upgrade_failed', 'upgrade not allowed', 'downstream'),
  // The controller's API and the proxies' own admin ports are never reached through a proxy: a workload could
  // otherwise steer the mesh, or read access logs, by asking its sidecar to relay.
  protected_destination: spec(
    403,
    undefined,
    'protected_destination',
    'the destination is part of the mesh control plane and is not reachable through a proxy',
    'config',
  ),
  missing_host_header: spec(400, 'DPE', 'missing_host_header', 'Bad Request', 'downstream'),
  // A CONNECT whose destination the mesh does not know under REGISTRY_ONLY: answered like block_all (502, no
  // flag) before the tunnel opens, so the client learns why instead of seeing a closed connection.
  connect_refused_by_policy: spec(
    502,
    undefined,
    'direct_response',
    'CONNECT refused: the destination is not registered in the mesh and the outbound traffic policy is REGISTRY_ONLY',
    'config',
  ),
  connect_bad_authority: spec(400, 'DPE', 'http1.invalid_connect_authority', 'Bad Request', 'downstream'),
  // No filter chain takes the connection: closed with nothing sent (Envoy: NR, filter_chain_not_found).
  filter_chain_not_found: spec(0, 'NR', 'filter_chain_not_found', '', 'config'),
  upstream_tls_failure: spec(
    503,
    'UF',
    'upstream_reset_before_response_started{connection_failure,TLS_error}',
    `${RESET_BODY}connection failure, transport failure reason: TLS error`,
    'upstream',
    CONNECT_RETRY_ON,
  ),
  // The client's TLS handshake with a terminating chain failed (bad or missing client certificate, no shared
  // protocol): the connection is closed.
  downstream_tls_failure: spec(0, undefined, 'downstream_tls_handshake_failed', '', 'downstream'),
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
  /** Envoy's %UPSTREAM_TRANSPORT_FAILURE_REASON%, for TLS that could not be originated. */
  readonly transportFailureReason: string | undefined;

  constructor(
    code: ProxyErrorCode,
    message?: string,
    options?: { cause?: unknown; status?: number; transportFailureReason?: string },
  ) {
    super(message ?? code, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProxyError';
    this.code = code;
    this.status = options?.status;
    this.transportFailureReason = options?.transportFailureReason;
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
