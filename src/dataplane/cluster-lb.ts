// Endpoint pickers (Envoy's load balancers). They choose among the targets a cluster resolved for this request,
// so STRICT_DNS clusters whose address set changes between requests need no rebuild.
import { isIP } from 'node:net';
import type { Cluster } from '../proxy-config/types.js';
import { formatAddress } from './stream-info.js';

export interface Target {
  /** The IP address dialled. */
  readonly ip: string;
  readonly port: number;
  readonly weight: number;
  /** "ip:port", computed once: the identity pickers and outlier detection keep state under. */
  readonly key: string;
  /** The target as the access log prints it (UPSTREAM_HOST), formatted once rather than per request. */
  readonly address: string;
  /** 4 or 6: the address family, worked out once (what local address an upstream connection binds). */
  readonly family: number;
}

export function target(ip: string, port: number, weight = 1): Target {
  return {
    ip,
    port,
    weight,
    key: `${ip}:${port}`,
    address: formatAddress(ip, port) ?? `${ip}:${port}`,
    family: isIP(ip),
  };
}

export interface EndpointPicker {
  /** `hash`: the request's consistent-hash key, when the cluster has a hash policy and the request a key. */
  pick<T extends Target>(targets: readonly T[], hash?: number): T;
  /** Counts a request in flight to `target` (least-request reads it); call the result when it ends. */
  track(target: Target): () => void;
}

/** Draws in [0, 1): Math.random, or a seeded source in tests. */
type Random = () => number;

export function createPicker(
  policy: Cluster['lbPolicy'],
  hashed = false,
  random: Random = Math.random,
): EndpointPicker {
  const base = basePicker(policy, random);
  return hashed ? consistentHash(base) : base;
}

function basePicker(policy: Cluster['lbPolicy'], draw: Random): EndpointPicker {
  switch (policy) {
    case 'ROUND_ROBIN':
      return roundRobin();
    case 'RANDOM':
      return randomPick(draw);
    case 'LEAST_REQUEST':
      return leastRequest(draw);
  }
}

const noop = (): void => {};

function totalWeight(targets: readonly Target[]): number {
  let sum = 0;
  for (const t of targets) sum += t.weight;
  return sum;
}

function byWeight<T extends Target>(targets: readonly T[], point: number): T {
  let acc = 0;
  for (const t of targets) {
    acc += t.weight;
    if (point < acc) return t;
  }
  return targets[targets.length - 1]!;
}

function sameWeights(targets: readonly Target[]): boolean {
  const w = targets[0]!.weight;
  for (const t of targets) if (t.weight !== w) return false;
  return true;
}

/**
 * Round robin. Equal weights: plain rotation, no state per target. Unequal: smooth weighted round robin (nginx's;
 * Envoy's EDF scheduler gives the same shares): each pick adds every target's weight to its running score, takes
 * the highest and subtracts the total from it, so weights 5:1:1 interleave as a a b a c a a.
 */
function roundRobin(): EndpointPicker {
  let next = 0;
  const scores = new Map<string, number>();
  return {
    pick(targets) {
      if (targets.length === 1) return targets[0]!;
      if (sameWeights(targets)) {
        const t = targets[next % targets.length]!;
        next = next >= Number.MAX_SAFE_INTEGER ? 0 : next + 1;
        return t;
      }
      // Targets that left the set would otherwise keep their scores forever.
      if (scores.size > targets.length * 2 + 16) scores.clear();
      let best: (typeof targets)[number] | undefined;
      let bestScore = -Infinity;
      let total = 0;
      for (const t of targets) {
        const s = (scores.get(t.key) ?? 0) + t.weight;
        scores.set(t.key, s);
        total += t.weight;
        if (s > bestScore) {
          bestScore = s;
          best = t;
        }
      }
      scores.set(best!.key, bestScore - total);
      return best!;
    },
    track: () => noop,
  };
}

function randomPick(draw: Random): EndpointPicker {
  return {
    pick(targets) {
      if (targets.length === 1) return targets[0]!;
      return byWeight(targets, draw() * totalWeight(targets));
    },
    track: () => noop,
  };
}

/** Envoy's default least-request: the better of two random choices by requests in flight. */
function leastRequest(draw: Random): EndpointPicker {
  const active = new Map<string, number>();
  return {
    pick(targets) {
      if (targets.length === 1) return targets[0]!;
      const a = targets[Math.floor(draw() * targets.length)]!;
      const b = targets[Math.floor(draw() * targets.length)]!;
      return (active.get(a.key) ?? 0) <= (active.get(b.key) ?? 0) ? a : b;
    },
    track(t) {
      const key = t.key;
      active.set(key, (active.get(key) ?? 0) + 1);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        const n = (active.get(key) ?? 1) - 1;
        if (n <= 0) active.delete(key);
        else active.set(key, n);
      };
    },
  };
}

/**
 * Consistent hashing by rendezvous (highest-random-weight) hashing instead of Envoy's ring: the same key picks the
 * same endpoint while it is in the set, and removing an endpoint moves only the keys that were on it, which is
 * the property a ring gives, without a ring to rebuild when a DNS cluster's addresses change. Weighted by
 * Schindelhauer's score -w/ln(u). Without a key the fallback picker decides (Envoy's ring: a random host).
 */
function consistentHash(fallback: EndpointPicker): EndpointPicker {
  return {
    pick(targets, hash) {
      if (hash === undefined) return fallback.pick(targets);
      if (targets.length === 1) return targets[0]!;
      let best = targets[0]!;
      let bestScore = -Infinity;
      for (const t of targets) {
        const u = (mix(hash, hashString(t.key)) + 0.5) / 4294967296;
        const score = -t.weight / Math.log(u);
        if (score > bestScore) {
          bestScore = score;
          best = t;
        }
      }
      return best;
    },
    track: (t) => fallback.track(t),
  };
}

/** FNV-1a, 32 bits: stable across processes and runs, so every proxy maps a key to the same endpoint. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A 32-bit finalizer (murmur3's fmix32) over both inputs, so similar keys spread evenly. */
function mix(a: number, b: number): number {
  let h = (a ^ Math.imul(b, 0x9e3779b1)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
