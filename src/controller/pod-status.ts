// Status per pod: every replica the configuration declares, connected or not, then the connected proxies no
// declaration expects (a replica on its way out after a scale-down, a proxy run by hand under another name).
import { podName } from '../proxy-config/types.js';
import type { ProxyDeclaration } from '../snapshot/index.js';
import type { ProxyState } from './proxy-state.js';

export interface ProxyStatus {
  /** The workload or gateway. */
  readonly name: string;
  readonly namespace: string;
  readonly type: string;
  /** The replica: the pod's name (a proxy run without one goes by its workload's). */
  readonly pod: string;
  readonly ip?: string;
  readonly connected: boolean;
  /** Expected by the configuration: `apply --wait` waits for it. */
  readonly declared: boolean;
  /** An endpoint of its Services (it applied a config and is not draining). */
  readonly ready: boolean;
  readonly draining: boolean;
  readonly sent?: string;
  readonly acked?: string;
  readonly nack?: { version: string; error: string };
  readonly synced: boolean;
}

/**
 * A declaration's connected proxies take its pods: first those connected under a declared pod name, then the rest
 * (proxies run by hand without `--pod`) fill the remaining places in order.
 */
export function podStatuses(
  declared: readonly ProxyDeclaration[],
  connected: readonly ProxyState[],
  version: string,
): ProxyStatus[] {
  const out: ProxyStatus[] = [];
  const placed = new Set<ProxyState>();
  for (const d of declared) {
    const mine = connected.filter(
      (p) => p.node.type === d.type && p.node.name === d.name && p.node.namespace === d.namespace,
    );
    const byPod = new Map(mine.map((p) => [podName(p.node), p] as const));
    const unnamed = mine.filter((p) => !d.pods.includes(podName(p.node)));
    for (const pod of d.pods) {
      const live = byPod.get(pod) ?? unnamed.shift();
      if (live) placed.add(live);
      out.push(statusOf(d, pod, true, live, version));
    }
  }
  for (const p of connected) {
    if (placed.has(p)) continue;
    out.push(statusOf(p.node, podName(p.node), false, p, version));
  }
  return out;
}

function statusOf(
  d: { readonly name: string; readonly namespace: string; readonly type: string },
  pod: string,
  declared: boolean,
  live: ProxyState | undefined,
  version: string,
): ProxyStatus {
  return {
    name: d.name,
    namespace: d.namespace,
    type: d.type,
    pod: live ? podName(live.node) : pod,
    ip: live?.node.ip,
    connected: live !== undefined,
    declared,
    ready: live?.ready === true && !live.draining,
    draining: live?.draining === true,
    sent: live?.sent,
    acked: live?.acked,
    nack: live?.nack,
    synced: live !== undefined && live.acked === version,
  };
}
