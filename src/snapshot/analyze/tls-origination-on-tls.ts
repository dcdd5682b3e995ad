import type { Diagnostic, Resource } from '../../model/index.js';
import { hostCovers } from '../host.js';
import type { RegistryService } from '../registry-types.js';
import type { Snapshot } from '../types.js';
import { isExportedTo } from '../visibility.js';
import { MESH_GATEWAY } from '../virtual-services.js';
import { clusterTls } from './client-tls.js';
import { finding } from './codes.js';
import { destinationsOf } from './destinations.js';
import { reachedPorts } from './route-ports.js';
import { matchesFor } from './rule-scope.js';

type VirtualService = Resource<'VirtualService'>;

const TLS_PROTOCOLS = new Set(['TLS', 'HTTPS']);

/** How traffic reaches one cluster (host, port, subset): as plain HTTP, or as bytes the client already encrypted. */
interface Arrivals {
  /** "host|port": some http rule sends plain HTTP there. */
  readonly plainHttp: Set<string>;
  /** "host|port|subset" -> the tls rules that send the client's TLS there. */
  readonly tlsRoutes: Map<string, string[]>;
}

/** Every http and tls rule's destinations, resolved to services and ports, by how their bytes arrive. */
function arrivals(snapshot: Snapshot): Arrivals {
  const plainHttp = new Set<string>();
  const tlsRoutes = new Map<string, string[]>();
  for (const vs of snapshot.byKind.VirtualService) {
    for (const { destination, kind, rule, match } of destinationsOf(vs)) {
      if (kind === 'tcp') continue;
      const service =
        snapshot.registry.resolve(destination.host, vs.meta.namespace) ??
        snapshot.registry.lookup(destination.host, vs.meta.namespace);
      if (!service) continue;
      for (const port of reachedPorts(destination, service, match)) {
        if (kind === 'http') {
          plainHttp.add(`${service.host}|${port}`);
          continue;
        }
        const key = `${service.host}|${port}|${destination.subset ?? ''}`;
        const via = `tls rule #${rule} of VirtualService ${vs.meta.namespace}/${vs.meta.name}`;
        tlsRoutes.set(key, [...(tlsRoutes.get(key) ?? []), via]);
      }
    }
  }
  return { plainHttp, tlsRoutes };
}

/**
 * Whether sidecars keep the port's own SNI chain to outbound|port||host: they do unless the host's mesh
 * VirtualService has tls or tcp rules for that port (which then replace it).
 */
function ownChain(snapshot: Snapshot, service: RegistryService, port: number): boolean {
  const vs: VirtualService | undefined = snapshot.virtualServices.meshForHost(service.host)[0];
  if (!vs) return true;
  const replaced = [...vs.spec.tls, ...vs.spec.tcp].some(
    (r) =>
      r.route.length > 0 && matchesFor(vs, r.match, MESH_GATEWAY).some((m) => m.port === undefined || m.port === port),
  );
  return !replaced;
}

/**
 * TG1012: a DestinationRule originates TLS (SIMPLE or MUTUAL) on a service port declared TLS or HTTPS, the traffic
 * that reaches that cluster is already TLS (the sidecars' own SNI chain for the port, or a tls rule routing there),
 * and no http rule anywhere sends plain HTTP to that host and port (as the egress gateway of istio.io's TLS
 * origination task does). The application's TLS is then wrapped in a second TLS and the upstream handshake fails.
 * The rule is judged as clients in its own namespace see it (the first namespace they look in).
 */
export function analyzeTlsOriginationOnTls(snapshot: Snapshot): Diagnostic[] {
  const out: Diagnostic[] = [];
  const reported = new Set<string>();
  let known: Arrivals | undefined;
  for (const dr of snapshot.byKind.DestinationRule) {
    const client = { namespace: dr.meta.namespace, labels: dr.spec.workloadSelector?.matchLabels ?? {} };
    for (const service of snapshot.registry.all()) {
      if (!hostCovers(dr.spec.host, service.host)) continue;
      if (!isExportedTo(service.exportTo, service.namespace, client.namespace)) continue;
      const effective = snapshot.destinationRules.lookup(service.host, service.namespace, client);
      if (!effective?.rules.includes(dr)) continue;
      for (const p of service.ports) {
        if (!TLS_PROTOCOLS.has(p.protocol)) continue;
        known ??= arrivals(snapshot);
        if (known.plainHttp.has(`${service.host}|${p.number}`)) continue;
        const ways: { subset?: string; via: string }[] = [];
        if (ownChain(snapshot, service, p.number))
          ways.push({ via: `the sidecars' own SNI chain for ${service.host}:${p.number}` });
        for (const subset of ['', ...effective.subsets.map((s) => s.name)]) {
          for (const via of known.tlsRoutes.get(`${service.host}|${p.number}|${subset}`) ?? [])
            ways.push({ ...(subset !== '' ? { subset } : {}), via });
        }
        for (const { subset, via } of ways) {
          const tls = clusterTls(effective, p.number, subset);
          if (!tls || tls.rule !== dr || (tls.tls.mode !== 'SIMPLE' && tls.tls.mode !== 'MUTUAL')) continue;
          const key = `${tls.field}|${service.host}|${p.number}`;
          if (reported.has(key)) continue;
          reported.add(key);
          out.push(
            finding(
              'TlsOriginationOnTlsTraffic',
              dr,
              `${tls.field}.mode`,
              `DestinationRule ${dr.meta.namespace}/${dr.meta.name} originates TLS (${tls.tls.mode}) to ${service.host}:${p.number}, a port declared ${p.protocol}, where traffic arrives already encrypted (${via}) and no http rule sends plain HTTP: the application's TLS is wrapped in a second TLS and the upstream handshake fails.`,
              `Originate TLS only where the application speaks plain HTTP: put the tls block on a port with protocol HTTP and targetPort ${p.number} (istio.io's "Egress TLS Origination"), or route plain HTTP to ${service.host}:${p.number} with an http rule; otherwise remove it and let the application's TLS pass through.`,
            ),
          );
        }
      }
    }
  }
  return out;
}
