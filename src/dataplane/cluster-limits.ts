// Circuit breakers (Envoy's per-cluster resource limits). Over HTTP/1.1 every request in flight holds one
// connection, so requests beyond maxConnections are the pending ones.
import type { Cluster } from '../proxy-config/types.js';

export class CircuitBreaker {
  private active = 0;
  private retries = 0;

  constructor(private readonly limits: NonNullable<Cluster['circuitBreakers']> = {}) {}

  /** False when the request would overflow maxRequests or the pending queue (503 UO). */
  tryAcquire(): boolean {
    const { maxRequests, maxConnections, maxPendingRequests } = this.limits;
    if (maxRequests !== undefined && this.active >= maxRequests) return false;
    if (maxConnections !== undefined && maxPendingRequests !== undefined) {
      const pending = this.active + 1 - maxConnections;
      if (pending > maxPendingRequests) return false;
    }
    this.active++;
    return true;
  }

  release(): void {
    if (this.active > 0) this.active--;
  }

  /** Envoy caps concurrent retries per cluster (max_retries); a retry over the cap is simply not made. */
  tryAcquireRetry(): boolean {
    const max = this.limits.maxRetries;
    if (max !== undefined && this.retries >= max) return false;
    this.retries++;
    return true;
  }

  releaseRetry(): void {
    if (this.retries > 0) this.retries--;
  }

  get inFlight(): number {
    return this.active;
  }
}
