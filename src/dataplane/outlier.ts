// Passive health checking (Envoy's outlier detection, consecutive-error detectors) for one compiled cluster.
// State lives as long as the compiled cluster: a push that changes the cluster starts afresh, as an Envoy
// cluster update does.
import type { Cluster } from '../proxy-config/types.js';
import type { Target } from './cluster-lb.js';

/** What an attempt came to, as the detector counts it. */
export type AttemptOutcome =
  /** Response headers with this status arrived. */
  | { readonly kind: 'status'; readonly status: number }
  /** Connect failure or reset before headers: Envoy maps these local-origin errors to 503. */
  | { readonly kind: 'connect-failure' }
  /** Per-try or route timeout: mapped to 504. */
  | { readonly kind: 'timeout' };

interface HostState {
  consecutive5xx: number;
  consecutiveGateway: number;
  /** 0 when not ejected. */
  ejectedUntil: number;
  ejections: number;
  unejectedAt: number;
}

/** Envoy's max_ejection_time default: ejection time grows with each ejection up to this (or the base, if more). */
const MAX_EJECTION_TIME_MS = 300_000;
const DEFAULT_CONSECUTIVE_5XX = 5;

export class OutlierDetector {
  private readonly hosts = new Map<string, HostState>();
  private readonly consecutive5xx: number;
  private readonly consecutiveGateway: number;
  private readonly intervalMs: number;
  private readonly baseMs: number;
  private readonly maxPercent: number;
  /** The size of the host set last seen, for the max-ejection-percent cap. */
  private hostCount = 0;

  constructor(
    config: NonNullable<Cluster['outlierDetection']>,
    private readonly now: () => number,
  ) {
    // Istio: consecutive5xxErrors 0 turns the 5xx detector off (enforcing 0); the gateway detector is off unless set.
    this.consecutive5xx = config.consecutive5xx ?? DEFAULT_CONSECUTIVE_5XX;
    this.consecutiveGateway = config.consecutiveGatewayErrors ?? 0;
    this.intervalMs = Math.max(1, config.intervalMs);
    this.baseMs = config.baseEjectionTimeMs;
    this.maxPercent = Math.min(100, config.maxEjectionPercent);
  }

  /** The targets not ejected now; the same array when none is (the usual case allocates nothing). */
  healthy<T extends Target>(targets: readonly T[]): readonly T[] {
    this.hostCount = targets.length;
    if (this.hosts.size === 0) return targets;
    const now = this.now();
    let ejected = 0;
    for (const t of targets) if (this.isEjected(t.key, now)) ejected++;
    if (ejected === 0) return targets;
    return targets.filter((t) => !this.isEjected(t.key, now));
  }

  report(target: Target, outcome: AttemptOutcome): void {
    const status = outcome.kind === 'status' ? outcome.status : outcome.kind === 'timeout' ? 504 : 503;
    let h = this.hosts.get(target.key);
    if (status < 500 || status > 599) {
      if (h) h.consecutive5xx = h.consecutiveGateway = 0;
      return;
    }
    if (!h)
      this.hosts.set(
        target.key,
        (h = { consecutive5xx: 0, consecutiveGateway: 0, ejectedUntil: 0, ejections: 0, unejectedAt: 0 }),
      );
    const now = this.now();
    // Envoy ignores results for a host already ejected.
    if (this.isEjected(target.key, now)) return;
    if (status >= 502 && status <= 504) {
      if (++h.consecutiveGateway === this.consecutiveGateway && this.consecutiveGateway > 0) {
        h.consecutiveGateway = 0;
        this.eject(h, now);
        return;
      }
    } else h.consecutiveGateway = 0;
    if (++h.consecutive5xx === this.consecutive5xx && this.consecutive5xx > 0) {
      h.consecutive5xx = 0;
      this.eject(h, now);
    }
  }

  /** Envoy's ejectHost: only while the ejected share is below max_ejection_percent, so with any positive cap the
   * first host is always ejectable, even the only one (then: 503 UH until it comes back). */
  private eject(h: HostState, now: number): void {
    let active = 0;
    for (const s of this.hosts.values()) if (s.ejectedUntil > now) active++;
    const total = Math.max(this.hostCount, active + 1);
    if ((100 * active) / total >= this.maxPercent) return;
    // The multiplier decays by one for each interval the host stayed healthy (Envoy >= 1.19).
    if (h.ejections > 0) h.ejections = Math.max(0, h.ejections - Math.floor((now - h.unejectedAt) / this.intervalMs));
    h.ejections++;
    const duration = Math.min(this.baseMs * h.ejections, Math.max(MAX_EJECTION_TIME_MS, this.baseMs));
    h.ejectedUntil = now + duration;
    h.consecutive5xx = h.consecutiveGateway = 0;
  }

  private isEjected(key: string, now: number): boolean {
    const h = this.hosts.get(key);
    if (!h || h.ejectedUntil === 0) return false;
    if (h.ejectedUntil > now) return true;
    h.unejectedAt = h.ejectedUntil;
    h.ejectedUntil = 0;
    return false;
  }

  /** For tests and status pages: the keys ejected now. */
  ejectedKeys(): string[] {
    const now = this.now();
    return [...this.hosts.keys()].filter((k) => this.isEjected(k, now));
  }
}
