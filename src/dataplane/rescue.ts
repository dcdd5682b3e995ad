// The one place that maps a failure to what the client sees (linkerd's ServerRescue, Envoy's local replies).
import type { ResponseFlag } from '../observability/index.js';
import { ERROR_CATALOG, ProxyError } from './errors.js';

export interface Rescued {
  /** Reset the downstream connection instead of answering (response headers already sent, or nothing to say). */
  readonly reset: boolean;
  readonly status: number;
  readonly body: string;
  readonly flags: readonly ResponseFlag[];
  readonly details: string;
  /** Set for errors the catalog does not know: a bug, worth a warning. */
  readonly unexpected?: unknown;
}

export function rescue(err: unknown, headersSent: boolean): Rescued {
  const proxyError = err instanceof ProxyError ? err : undefined;
  const code = proxyError?.code ?? 'internal_error';
  if (headersSent || code === 'downstream_disconnect') {
    // Envoy cannot change a response that has started: the stream is reset and the log tells why.
    const after =
      code === 'downstream_disconnect'
        ? ERROR_CATALOG.downstream_disconnect
        : proxyError?.spec.source === 'upstream'
          ? ERROR_CATALOG.upstream_reset_after_response_started
          : ERROR_CATALOG[code];
    return {
      reset: true,
      status: 0,
      body: '',
      flags: after.flag ? [after.flag] : [],
      details: after.details,
      ...(proxyError ? {} : { unexpected: err }),
    };
  }
  const spec = ERROR_CATALOG[code];
  return {
    reset: false,
    status: proxyError?.status ?? spec.status,
    body: spec.body,
    flags: spec.flag ? [spec.flag] : [],
    details: spec.details,
    ...(proxyError ? {} : { unexpected: err }),
  };
}
