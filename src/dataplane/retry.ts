// Envoy's retry policy: which failures are retried, and the jittered exponential back-off between attempts.
import type { UpstreamResponse } from './http1/types.js';
import { firstRawValue } from './http1/wire.js';
import type { RetryPolicy } from '../proxy-config/types.js';
import type { EndpointPicker, Target } from './cluster-lb.js';
import type { ProxyError } from './errors.js';

/** Istio's default host_selection_retry_max_attempts: how often a retry re-picks to avoid a host it tried. */
const HOST_SELECTION_RETRY_MAX_ATTEMPTS = 5;

/**
 * Istio's previous_hosts retry predicate: the load balancer's pick, drawn again (up to 5 times) while it lands on
 * a host this request already tried, so that a retry after a dead endpoint goes to another one. Where Envoy would
 * then keep the last pick, the first host not tried yet is taken: a least-request balancer prefers a dead host
 * (it fails at once, so it never has requests in flight) and would otherwise send every retry back to it.
 */
export function pickAvoiding(
  picker: EndpointPicker,
  healthy: readonly Target[],
  hash: number | undefined,
  tried: ReadonlySet<string>,
): Target {
  let target = picker.pick(healthy, hash);
  if (healthy.length < 2 || !tried.has(target.key)) return target;
  for (let i = 0; i < HOST_SELECTION_RETRY_MAX_ATTEMPTS && tried.has(target.key); i++)
    target = picker.pick(healthy, hash);
  if (!tried.has(target.key)) return target;
  for (const t of healthy) if (!tried.has(t.key)) return t;
  return target;
}

export function errorIsRetriable(err: ProxyError, policy: RetryPolicy): boolean {
  for (const condition of err.spec.retryOn) if (policy.retryOn.includes(condition)) return true;
  return false;
}

export function responseIsRetriable(res: UpstreamResponse, policy: RetryPolicy): boolean {
  const status = res.statusCode;
  const on = policy.retryOn;
  if (on.includes('5xx') && status >= 500) return true;
  if (on.includes('gateway-error') && (status === 502 || status === 503 || status === 504)) return true;
  if (on.includes('retriable-4xx') && status === 409) return true;
  if (on.includes('retriable-status-codes') && policy.retriableStatusCodes.includes(status)) return true;
  // Read off the raw lines: asking for the headers object would build it for every response.
  const grpc = firstRawValue(res.rawHeaders, 'grpc-status');
  if (grpc !== undefined) {
    const condition = GRPC_RETRY_ON.get(grpc);
    if (condition && on.includes(condition)) return true;
  }
  return false;
}

/** The grpc-status values Envoy's gRPC retry conditions name. */
const GRPC_RETRY_ON: ReadonlyMap<string, string> = new Map([
  ['1', 'cancelled'],
  ['4', 'deadline-exceeded'],
  ['8', 'resource-exhausted'],
  ['14', 'unavailable'],
]);

/** Envoy: a random wait in [0, (2^n - 1) * base], capped at 10 × base, for retry n (1-based). */
export function backoffMs(retryNumber: number, baseMs: number, random: () => number = Math.random): number {
  const base = baseMs > 0 ? baseMs : 25;
  const ceiling = Math.min((2 ** retryNumber - 1) * base, 10 * base);
  return Math.floor(random() * (ceiling + 1));
}
