import type { Diagnostic } from '../../model/index.js';
import type { Snapshot } from '../types.js';
import { finding } from './codes.js';

/**
 * TG1009: a Sidecar that lists egress hosts while the outbound policy of its workloads (its own
 * outboundTrafficPolicy, else the mesh's) is ALLOW_ANY. egress.hosts only limits which services get listeners
 * and routes; under ALLOW_ANY a request for any other host still leaves through PassthroughCluster, so the list
 * does not block anything. Reported at the first egress listener with hosts.
 */
export function analyzeSidecarScope(snapshot: Snapshot): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const sc of snapshot.byKind.Sidecar) {
    const i = sc.spec.egress.findIndex((e) => e.hosts.length > 0);
    if (i < 0) continue;
    const own = sc.spec.outboundTrafficPolicy?.mode;
    const mode = own ?? snapshot.mesh.outboundTrafficPolicy;
    if (mode !== 'ALLOW_ANY') continue;
    const source = own ? 'set by its own outboundTrafficPolicy' : 'from meshConfig.outboundTrafficPolicy';
    out.push(
      finding(
        'SidecarScopeIsNotAFirewall',
        sc,
        `spec.egress[${i}].hosts`,
        `Sidecar ${sc.meta.namespace}/${sc.meta.name} limits egress hosts to [${sc.spec.egress[i]?.hosts.join(', ')}], but the outbound policy is ALLOW_ANY (${source}): traffic to hosts outside the list still passes through.`,
        'Set outboundTrafficPolicy.mode: REGISTRY_ONLY on this Sidecar (or in meshConfig) if hosts outside the list must be blocked.',
      ),
    );
  }
  return out;
}
