// Destinations a proxy never dials, whatever the route says: its own listeners (a request to itself would loop;
// Istio's loop guard sends it to BlackHoleCluster), and the mesh's control plane — the controller's API and the
// proxies' admin ports — which a workload must not reach by asking its sidecar to relay.
import { isIP } from 'node:net';
import { BLACKHOLE_CLUSTER } from '../proxy-config/types.js';
import type { Target } from './cluster-lb.js';
import type { OriginalDestination } from './cluster-endpoints.js';
import { ProxyError } from './errors.js';
import type { StreamInfo } from './stream-info.js';

export interface GuardDeps {
  /** Whether ip:port is one of this proxy's own listeners. */
  readonly isOwnListener: (ip: string, port: number) => boolean;
  /** Whether ip:port is part of the control plane (the controller's API, a proxy admin port). */
  readonly isControlPlane: (ip: string, port: number) => boolean;
}

/** The targets that may be dialled; throws when none is left (request_loop or protected_destination). */
export function guardTargets(
  targets: readonly Target[],
  deps: GuardDeps,
  original: OriginalDestination,
  info: StreamInfo,
): readonly Target[] {
  // The common case, nothing to leave out: one pass, no copies, no callbacks allocated.
  let clear = true;
  for (const t of targets) {
    if (deps.isOwnListener(t.ip, t.port) || deps.isControlPlane(t.ip, t.port)) {
      clear = false;
      break;
    }
  }
  if (clear) return targets;
  let out = targets;
  if (out.some((t) => deps.isOwnListener(t.ip, t.port))) {
    out = out.filter((t) => !deps.isOwnListener(t.ip, t.port));
    if (out.length === 0) {
      info.upstreamCluster = BLACKHOLE_CLUSTER;
      throw new ProxyError('request_loop', `${original.host}:${original.port} is this proxy's own listener`);
    }
  }
  if (out.some((t) => deps.isControlPlane(t.ip, t.port))) {
    out = out.filter((t) => !deps.isControlPlane(t.ip, t.port));
    if (out.length === 0) {
      throw new ProxyError('protected_destination', `${original.host}:${original.port} is part of the control plane`);
    }
  }
  return out;
}

/**
 * A matcher for control-plane addresses given as host:port. A loopback name or address stands for the whole
 * loopback range, and an unspecified address (0.0.0.0, ::) for every address: a server listening there answers
 * on all of them.
 */
export function controlPlaneMatcher(
  endpoints: readonly { readonly host: string; readonly port: number }[],
): (ip: string, port: number) => boolean {
  /** Addresses by port: a request's destination is looked up without building a key string. */
  const exact = new Map<number, Set<string>>();
  const anyAddress = new Set<number>();
  const loopback = new Set<number>();
  for (const { host, port } of endpoints) {
    const h = host.replace(/^\[|\]$/g, '').toLowerCase();
    if (h === '0.0.0.0' || h === '::' || h === '') anyAddress.add(port);
    else if (h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'))) loopback.add(port);
    else {
      let ips = exact.get(port);
      if (!ips) exact.set(port, (ips = new Set()));
      ips.add(h);
    }
  }
  if (exact.size === 0 && anyAddress.size === 0 && loopback.size === 0) return () => false;
  return (ip, port) => {
    if (anyAddress.has(port)) return true;
    const onLoopback = loopback.has(port);
    const ips = exact.get(port);
    if (!onLoopback && !ips) return false;
    const bare = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
    if (onLoopback && (bare === '::1' || bare.startsWith('127.'))) return true;
    return ips !== undefined && ips.has(bare.toLowerCase());
  };
}
