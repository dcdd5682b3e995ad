// Endpoint pickers (Envoy's load balancers). They choose among the targets a cluster resolved for this request,
// so STRICT_DNS clusters whose address set changes between requests need no rebuild.
import type { Cluster } from '../proxy-config/types.js';

export interface Target {
  /** The IP address dialled. */
  readonly ip: string;
  readonly port: number;
  readonly weight: number;
}

export interface EndpointPicker {
  pick<T extends Target>(targets: readonly T[]): T;
  /** Counts a request in flight to `target` (least-request reads it); call the result when it ends. */
  track(target: Target): () => void;
}

export function createPicker(policy: Cluster['lbPolicy']): EndpointPicker {
  switch (policy) {
    case 'ROUND_ROBIN':
      return roundRobin();
    case 'RANDOM':
      return random();
    case 'LEAST_REQUEST':
      return leastRequest();
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

/** Weighted round robin over the cumulative weights: deterministic, each target gets its share in turn. */
function roundRobin(): EndpointPicker {
  let next = 0;
  return {
    pick(targets) {
      if (targets.length === 1) return targets[0]!;
      const total = totalWeight(targets);
      const point = next++ % total;
      if (next >= Number.MAX_SAFE_INTEGER) next = 0;
      return byWeight(targets, point);
    },
    track: () => noop,
  };
}

function random(): EndpointPicker {
  return {
    pick(targets) {
      if (targets.length === 1) return targets[0]!;
      return byWeight(targets, Math.random() * totalWeight(targets));
    },
    track: () => noop,
  };
}

/** Envoy's default least-request: the better of two random choices by requests in flight. */
function leastRequest(): EndpointPicker {
  const active = new Map<string, number>();
  const keyOf = (t: Target): string => `${t.ip}:${t.port}`;
  return {
    pick(targets) {
      if (targets.length === 1) return targets[0]!;
      const a = targets[Math.floor(Math.random() * targets.length)]!;
      const b = targets[Math.floor(Math.random() * targets.length)]!;
      return (active.get(keyOf(a)) ?? 0) <= (active.get(keyOf(b)) ?? 0) ? a : b;
    },
    track(target) {
      const key = keyOf(target);
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
