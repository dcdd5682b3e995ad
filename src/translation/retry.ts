import type { HTTPRetry } from '../model/index.js';
import type { RetryPolicy } from '../proxy-config/types.js';

// Istio's retry defaults (pilot route/retry): applied when a VirtualService route sets no retries.
const DEFAULT_RETRY_ON = ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'];
const DEFAULT_RETRIABLE_CODES = [503];
const BACKOFF_BASE_MS = 25;

export function defaultRetryPolicy(): RetryPolicy {
  return {
    numRetries: 2,
    retryOn: DEFAULT_RETRY_ON,
    retriableStatusCodes: DEFAULT_RETRIABLE_CODES,
    backoffBaseMs: BACKOFF_BASE_MS,
  };
}

/**
 * `attempts: 0` disables retries. A user retryOn replaces the default conditions; numeric entries become
 * retriable status codes (and bring the "retriable-status-codes" condition with them).
 */
export function retryPolicy(retries: HTTPRetry | undefined): RetryPolicy | undefined {
  if (!retries) return defaultRetryPolicy();
  if (retries.attempts <= 0) return undefined;
  let retryOn = DEFAULT_RETRY_ON;
  let codes = DEFAULT_RETRIABLE_CODES;
  if (retries.retryOn) {
    const parts = retries.retryOn
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    codes = parts.filter((s) => /^\d+$/.test(s)).map(Number);
    retryOn = parts.filter((s) => !/^\d+$/.test(s));
    if (codes.length > 0 && !retryOn.includes('retriable-status-codes'))
      retryOn = [...retryOn, 'retriable-status-codes'];
  }
  return {
    numRetries: retries.attempts,
    ...(retries.perTryTimeoutMs !== undefined ? { perTryTimeoutMs: retries.perTryTimeoutMs } : {}),
    retryOn,
    retriableStatusCodes: codes,
    backoffBaseMs: BACKOFF_BASE_MS,
  };
}
