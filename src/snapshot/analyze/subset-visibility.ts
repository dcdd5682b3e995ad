import type { Diagnostic } from '../../model/index.js';
import type { Snapshot } from '../types.js';
import { MESH_GATEWAY } from '../virtual-services.js';
import { finding } from './codes.js';
import { destinationsOf } from './destinations.js';
import { type Client, gatewayClients, meshClients } from './route-clients.js';
import { matchesFor, rulesOf, type ScopedMatch } from './rule-scope.js';
import { SubsetOwners } from './subset-owners.js';

/**
 * TG1003: a route names a subset that a DestinationRule defines, but some proxy taking the route looks that rule
 * up nowhere. A proxy finds DestinationRules in its own namespace, then the service's, then the root namespace
 * (the first namespace with a rule for the host wins), so a subset defined in namespace X is missing for clients
 * elsewhere unless X is the service's or the root namespace; the cluster outbound|port|subset|host then does not
 * exist there and requests get 503 NC. Clients: sidecars of the namespaces a mesh rule serves, and the egress
 * gateways of the Gateways a rule applies at. A subset no DestinationRule defines at all is IST0101's.
 */
export function analyzeSubsetVisibility(snapshot: Snapshot): Diagnostic[] {
  const out: Diagnostic[] = [];
  const subsets = new SubsetOwners(snapshot.byKind.DestinationRule);
  const root = snapshot.mesh.rootNamespace;
  for (const vs of snapshot.byKind.VirtualService) {
    if (!destinationsOf(vs).some((d) => d.destination.subset !== undefined)) continue;
    const clientsByRule = new Map<readonly ScopedMatch[], Client[]>();
    for (const rule of rulesOf(vs)) {
      clientsByRule.set(rule.match, [
        ...meshClients(snapshot, vs, matchesFor(vs, rule.match, MESH_GATEWAY)),
        ...gatewayClients(snapshot, vs, rule.match),
      ]);
    }
    for (const { destination, field, match } of destinationsOf(vs)) {
      const subset = destination.subset;
      if (subset === undefined) continue;
      const missing = new Set<string>();
      let declared: ReturnType<typeof snapshot.registry.lookup>;
      for (const c of clientsByRule.get(match) ?? []) {
        const service =
          snapshot.registry.resolve(destination.host, c.namespace) ??
          snapshot.registry.lookup(destination.host, c.namespace);
        if (!service) continue;
        declared ??= service;
        if (subsets.owners(service.host, subset).length === 0) continue;
        const dr = snapshot.destinationRules.lookup(service.host, service.namespace, c);
        if (!dr?.subsets.some((s) => s.name === subset)) missing.add(c.namespace);
      }
      if (missing.size === 0 || !declared) continue;
      const owners = subsets.owners(declared.host, subset).map((d) => `${d.meta.namespace}/${d.meta.name}`);
      const namespaces = [...missing].sort();
      const homes = [...new Set([declared.namespace, root])];
      out.push(
        finding(
          'SubsetNotVisibleToClient',
          vs,
          `${field}.subset`,
          `Subset "${subset}" of ${declared.host} is defined by DestinationRule ${owners.join(', ')}, which proxies in namespace${namespaces.length > 1 ? 's' : ''} ${namespaces.join(', ')} do not look up (they search their own namespace, then ${homes.join(', then ')}); their requests on this route get 503 NC.`,
          `Define the subset in a DestinationRule in namespace ${homes.join(' or ')} (exported to those namespaces), or in each client namespace.`,
        ),
      );
    }
  }
  return out;
}
