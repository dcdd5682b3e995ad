import type { Resource } from '../../model/index.js';
import { hostCovers } from '../host.js';
import { labelsMatch } from '../labels.js';
import type { RegistryService } from '../registry-types.js';
import type { ProxyDeclaration, Snapshot } from '../types.js';
import { isExportedTo } from '../visibility.js';
import { MESH_GATEWAY } from '../virtual-services.js';
import { destinationsOf } from './destinations.js';
import { sourceAllows } from './route-clients.js';
import { gatewayKey, matchesFor, type ScopedMatch } from './rule-scope.js';

type DestinationRule = Resource<'DestinationRule'>;
type VirtualService = Resource<'VirtualService'>;

interface RoutedTo {
  readonly vs: VirtualService;
  readonly match: readonly ScopedMatch[];
  readonly subset?: string;
}

/**
 * Which proxies send traffic through the clusters a DestinationRule configures, and so read what its tls blocks
 * name: the proxies whose own lookup finds the rule for a service it covers and that route to that service. An
 * egress gateway routes there when a rule of a VirtualService bound to a Gateway selecting it names the service; a
 * sidecar when a mesh rule it takes names the service, or when no mesh VirtualService claims the host, so the
 * default route does. Built once per analysis.
 */
export class RuleConsumers {
  private readonly routes = new Map<RegistryService, RoutedTo[]>();

  constructor(private readonly snapshot: Snapshot) {
    for (const vs of snapshot.byKind.VirtualService) {
      for (const { destination, match } of destinationsOf(vs)) {
        const service =
          snapshot.registry.resolve(destination.host, vs.meta.namespace) ??
          snapshot.registry.lookup(destination.host, vs.meta.namespace);
        if (!service) continue;
        const to = { vs, match, ...(destination.subset !== undefined ? { subset: destination.subset } : {}) };
        this.routes.set(service, [...(this.routes.get(service) ?? []), to]);
      }
    }
  }

  /** The proxies using the rule's clusters (only its `subset`'s, when given), in snapshot order. */
  of(dr: DestinationRule, subset?: string): ProxyDeclaration[] {
    const services = this.snapshot.registry.all().filter((s) => hostCovers(dr.spec.host, s.host));
    return this.snapshot.proxies.filter((p) =>
      services.some(
        (s) =>
          isExportedTo(s.exportTo, s.namespace, p.namespace) &&
          this.snapshot.destinationRules.lookup(s.host, s.namespace, p)?.rules.includes(dr) === true &&
          this.routesTo(p, s, subset),
      ),
    );
  }

  private routesTo(p: ProxyDeclaration, s: RegistryService, subset: string | undefined): boolean {
    const routes = (this.routes.get(s) ?? []).filter((r) => subset === undefined || r.subset === subset);
    const exported = (r: RoutedTo, ns: string): boolean => isExportedTo(r.vs.spec.exportTo, r.vs.meta.namespace, ns);
    if (p.type === 'router') {
      const gateways = this.snapshot.byKind.Gateway.filter((g) => labelsMatch(g.spec.selector, p.labels));
      return routes.some((r) =>
        gateways.some((g) => exported(r, g.meta.namespace) && matchesFor(r.vs, r.match, gatewayKey(g)).length > 0),
      );
    }
    const meshRoutes = routes.filter((r) => exported(r, p.namespace));
    if (meshRoutes.some((r) => matchesFor(r.vs, r.match, MESH_GATEWAY).some((m) => sourceAllows(m, p)))) return true;
    const claimed = this.snapshot.virtualServices
      .meshForHost(s.host)
      .some((vs) => isExportedTo(vs.spec.exportTo, vs.meta.namespace, p.namespace));
    return subset === undefined && !claimed;
  }
}
