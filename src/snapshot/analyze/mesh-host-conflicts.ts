import type { Diagnostic, Resource } from '../../model/index.js';
import { hostsIntersect } from '../host.js';
import type { Snapshot } from '../types.js';
import { finding } from './codes.js';
import { isMeshBound } from './rule-scope.js';

type VirtualService = Resource<'VirtualService'>;

const ALL = '*';

interface Claim {
  readonly vs: VirtualService;
  readonly hostIndex: number;
}

/** The namespaces a VirtualService's hosts are claimed in: "*" when exported everywhere. */
function scopes(vs: VirtualService): string[] {
  const exportTo = vs.spec.exportTo;
  if (exportTo.length === 0 || exportTo.includes(ALL)) return [ALL];
  return [...new Set(exportTo.map((e) => (e === '.' ? vs.meta.namespace : e)))];
}

/**
 * IST0109, as istioctl's ConflictingMeshGatewayHostsAnalyzer: mesh-bound VirtualServices claim their hosts per
 * export scope; two claims of the same host in the same scope conflict, and so does a claim in one namespace
 * scope with an everywhere-exported claim whose host intersects it. Sidecars then use only the first
 * VirtualService for the host and silently drop the other's rules. Each VirtualService is reported once.
 */
export function analyzeMeshHostConflicts(snapshot: Snapshot): Diagnostic[] {
  const claims = new Map<string, Map<string, Claim[]>>();
  for (const vs of snapshot.byKind.VirtualService) {
    if (!isMeshBound(vs)) continue;
    for (const scope of scopes(vs)) {
      let byHost = claims.get(scope);
      if (!byHost) claims.set(scope, (byHost = new Map()));
      vs.spec.hosts.forEach((host, hostIndex) => {
        const list = byHost.get(host);
        if (!list) byHost.set(host, [{ vs, hostIndex }]);
        else if (!list.some((c) => c.vs === vs)) list.push({ vs, hostIndex });
      });
    }
  }
  const everywhere = claims.get(ALL) ?? new Map<string, Claim[]>();
  const out: Diagnostic[] = [];
  const reported = new Set<VirtualService>();
  for (const [scope, byHost] of claims) {
    for (const [host, own] of byHost) {
      const group = [...own];
      if (scope !== ALL) {
        for (const [other, list] of everywhere) {
          if (hostsIntersect(host, other)) for (const c of list) if (!group.some((g) => g.vs === c.vs)) group.push(c);
        }
      }
      if (group.length < 2) continue;
      const names = group.map((c) => `${c.vs.meta.namespace}/${c.vs.meta.name}`).join(', ');
      for (const c of group) {
        if (reported.has(c.vs)) continue;
        reported.add(c.vs);
        out.push(
          finding(
            'ConflictingMeshGatewayVirtualServiceHosts',
            c.vs,
            `spec.hosts[${c.hostIndex}]`,
            `VirtualServices ${names} are all bound to the mesh and claim host ${c.vs.spec.hosts[c.hostIndex]} (scope ${scope === ALL ? 'all namespaces' : `namespace ${scope}`}); sidecars use only the first and ignore the others' rules.`,
            'Merge the rules into one VirtualService for this host, or narrow exportTo so that the scopes do not overlap.',
          ),
        );
      }
    }
  }
  return out;
}
