import type { Diagnostic, GatewayServer, Resource } from '../../model/index.js';
import { hostsIntersect } from '../host.js';
import { labelsMatch } from '../labels.js';
import { isHttpProtocol } from '../port-protocol.js';
import { kubeHost } from '../registry-build.js';
import type { RegistryService } from '../registry-types.js';
import type { Snapshot } from '../types.js';
import { MESH_GATEWAY } from '../virtual-services.js';
import { clusterTls, type WrittenClientTls } from './client-tls.js';
import { finding } from './codes.js';
import { destinationsOf } from './destinations.js';
import { type Client, meshClients } from './route-clients.js';
import { reachedPorts } from './route-ports.js';
import { gatewayKey, matchesFor, matchGateways, type RuleRef, type ScopedMatch } from './rule-scope.js';

type VirtualService = Resource<'VirtualService'>;

/**
 * What a sidecar sends to the gateway port: plain HTTP, the app's own TLS, the app's bytes as they are (tcp rules),
 * mesh mTLS, or TLS it originates.
 */
type Wire = 'http' | 'app-tls' | 'opaque' | 'mesh-mtls' | 'tls';
/** What a gateway server on the port takes. TCP servers take anything and are not checked. */
type Accepts = 'http' | 'passthrough' | 'mesh-mtls' | 'tls';

const SENT: Record<Wire, string> = {
  http: 'plain HTTP',
  'app-tls': "the application's own TLS",
  opaque: "the application's bytes as they are",
  'mesh-mtls': 'mesh mTLS (ISTIO_MUTUAL)',
  tls: 'TLS they originate',
};

const TAKES: Record<Accepts, string> = {
  http: 'serves plain HTTP',
  passthrough: 'passes TLS through by SNI (PASSTHROUGH)',
  'mesh-mtls': 'terminates mesh mTLS (ISTIO_MUTUAL)',
  tls: 'terminates TLS with its own certificate',
};

/** What goes wrong for each pair that does not fit; absent: the pair works. */
const FAILURE: Record<Wire, Partial<Record<Accepts, string>>> = {
  http: {
    passthrough: 'the gateway routes only TLS connections, by SNI, and closes plaintext ones (filter_chain_not_found)',
    'mesh-mtls': 'the gateway expects a TLS handshake with a mesh client certificate and refuses the connection',
    tls: 'the gateway expects a TLS handshake and refuses the plaintext connection',
  },
  'app-tls': {
    http: 'the gateway reads the TLS handshake as an HTTP request and fails it',
    'mesh-mtls': "the application's TLS carries no mesh client certificate, so the gateway refuses the handshake",
  },
  // Whether the bytes are TLS depends on the application; only a mesh certificate is sure to be missing.
  opaque: {
    'mesh-mtls':
      'the gateway expects a TLS handshake with a mesh client certificate, which the application cannot present',
  },
  'mesh-mtls': {
    http: 'the gateway reads the mesh TLS handshake as an HTTP request and fails it',
    passthrough:
      'the gateway passes the mesh handshake on to the external host, whose certificate is no mesh identity: the sidecar refuses it',
    tls: 'the gateway presents its own certificate, which is no mesh identity: the sidecar refuses it',
  },
  tls: {
    http: 'the gateway reads the TLS handshake as an HTTP request and fails it',
    'mesh-mtls':
      'the gateway asks for a mesh client certificate, which the sidecar does not present: the handshake fails',
  },
};

function accepts(server: GatewayServer): Accepts | undefined {
  const p = server.port.protocol;
  if (isHttpProtocol(p)) return 'http';
  if (p !== 'HTTPS' && p !== 'TLS') return undefined;
  switch (server.tls?.mode) {
    case 'PASSTHROUGH':
      return 'passthrough';
    case 'ISTIO_MUTUAL':
      return 'mesh-mtls';
    case 'SIMPLE':
    case 'MUTUAL':
    case 'OPTIONAL_MUTUAL':
      return 'tls';
    default:
      return undefined;
  }
}

function wire(kind: RuleRef['kind'], tls: WrittenClientTls | undefined): Wire {
  switch (tls?.tls.mode) {
    case 'ISTIO_MUTUAL':
      return 'mesh-mtls';
    case 'SIMPLE':
    case 'MUTUAL':
      return 'tls';
    default:
      return kind === 'http' ? 'http' : kind === 'tls' ? 'app-tls' : 'opaque';
  }
}

interface BoundServer {
  readonly gateway: Resource<'Gateway'>;
  readonly server: GatewayServer;
}

/** The servers of Gateways on the gateway workload that take one of `hosts` on `port` (Service port numbers). */
function serversFor(
  snapshot: Snapshot,
  service: RegistryService,
  port: number,
  hosts: readonly string[],
): BoundServer[] {
  const workload = snapshot.egressGateways.find((g) => kubeHost(g.name, g.namespace) === service.host);
  if (!workload) return [];
  const out: BoundServer[] = [];
  for (const gateway of snapshot.byKind.Gateway) {
    if (!labelsMatch(gateway.spec.selector, workload.labels)) continue;
    for (const server of gateway.spec.servers) {
      if (server.port.number !== port) continue;
      const dns = server.hosts.map((h) => h.slice(h.indexOf('/') + 1));
      if (dns.some((d) => hosts.some((h) => hostsIntersect(d, h)))) out.push({ gateway, server });
    }
  }
  return out;
}

/** The hosts the gateway sees a mesh rule's traffic as: its SNI hosts (tls rules), else the VirtualService's. */
function trafficHosts(vs: VirtualService, kind: RuleRef['kind'], index: number): readonly string[] {
  const tls = kind === 'tls' ? (vs.spec.tls[index]?.match ?? []) : [];
  const sni = tls.filter((m) => matchGateways(vs, m).includes(MESH_GATEWAY)).flatMap((m) => m.sniHosts);
  return sni.length > 0 ? sni : vs.spec.hosts;
}

function describeTls(tls: WrittenClientTls | undefined, gatewayHost: string, port: number): string {
  if (!tls) return `no DestinationRule for ${gatewayHost} originates TLS on port ${port}`;
  return `DestinationRule ${tls.rule.meta.namespace}/${tls.rule.meta.name} ${tls.field} sets mode ${tls.tls.mode}`;
}

function hintFor(w: Wire, a: Accepts, gatewayHost: string, port: number, hosts: readonly string[]): string {
  if (a === 'mesh-mtls') {
    return `Give the route's clients a DestinationRule for ${gatewayHost} with tls mode ISTIO_MUTUAL and sni ${hosts[0] ?? ''} on port ${port} (portLevelSettings of the subset the route names), or change the server's tls.mode.`;
  }
  if (w === 'mesh-mtls') {
    return `Make the server terminate mesh mTLS (protocol HTTPS or TLS, tls.mode ISTIO_MUTUAL), or remove the ISTIO_MUTUAL tls for port ${port} from the DestinationRule for ${gatewayHost}.`;
  }
  return `Make what sidecars send match the server: a tls rule to a PASSTHROUGH server, an http rule to an HTTP server (or ISTIO_MUTUAL from the DestinationRule to an ISTIO_MUTUAL server).`;
}

interface Sent {
  readonly wire: Wire;
  readonly tls: WrittenClientTls | undefined;
  readonly namespaces: Set<string>;
}

/**
 * What the clients send to one gateway port, each by the DestinationRule its own namespace finds; clients that send
 * the same thing because of the same tls block are grouped.
 */
function whatClientsSend(
  snapshot: Snapshot,
  clients: readonly Client[],
  kind: RuleRef['kind'],
  service: RegistryService,
  port: number,
  subset: string | undefined,
): Sent[] {
  const groups = new Map<string, Sent>();
  for (const c of clients) {
    const tls = clusterTls(snapshot.destinationRules.lookup(service.host, service.namespace, c), port, subset);
    const w = wire(kind, tls);
    const key = `${w}|${tls ? `${tls.rule.meta.namespace}/${tls.rule.meta.name}|${tls.field}` : ''}`;
    const group = groups.get(key) ?? { wire: w, tls, namespaces: new Set<string>() };
    group.namespaces.add(c.namespace);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/**
 * TG1017: a mesh rule routes to an egress gateway's Service port, and what the route's sidecars send there (plain
 * HTTP, the app's TLS or bytes, or what the DestinationRule for the gateway host, subset and port originates)
 * does not fit the Gateway server on that port for the traffic's hosts: plaintext into an ISTIO_MUTUAL or other
 * terminating server, ISTIO_MUTUAL into a plain HTTP, PASSTHROUGH or certificate-terminating server, and so on.
 * Every such connection fails at the gateway. Reported at the route's destination when every server that takes
 * the hosts on the port mismatches; each client namespace's DestinationRule lookup is checked, as sidecars there
 * do it.
 */
export function analyzeGatewayPortTls(snapshot: Snapshot): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const vs of snapshot.byKind.VirtualService) {
    const clientsOf = new Map<readonly ScopedMatch[], Client[]>();
    for (const { destination, field, kind, rule, match } of destinationsOf(vs)) {
      const service = snapshot.registry.resolve(destination.host, vs.meta.namespace);
      if (service?.origin !== 'EgressGateway') continue;
      const matches = matchesFor(vs, match, MESH_GATEWAY);
      if (matches.length === 0) continue;
      const hosts = trafficHosts(vs, kind, rule);
      for (const port of reachedPorts(destination, service, matches)) {
        const servers = serversFor(snapshot, service, port, hosts);
        if (servers.length === 0) continue;
        const clients = clientsOf.get(match) ?? meshClients(snapshot, vs, matches);
        clientsOf.set(match, clients);
        for (const { wire: w, tls, namespaces } of whatClientsSend(
          snapshot,
          clients,
          kind,
          service,
          port,
          destination.subset,
        )) {
          const problems = servers.map((b) => {
            const a = accepts(b.server);
            return a && FAILURE[w][a] !== undefined ? { b, a, why: FAILURE[w][a] } : undefined;
          });
          const first = problems[0];
          if (!first || problems.some((p) => p === undefined)) continue;
          const ns = [...namespaces].sort();
          const s = first.b.server;
          out.push(
            finding(
              'GatewayPortTlsMismatch',
              vs,
              field,
              `Sidecars in namespace${ns.length > 1 ? 's' : ''} ${ns.join(', ')} send ${SENT[w]} to ${service.host}:${port} (${describeTls(tls, service.host, port)}), but Gateway ${gatewayKey(first.b.gateway)}'s server on port ${port} (protocol ${s.port.protocol}${s.tls ? `, tls.mode ${s.tls.mode}` : ''}) ${TAKES[first.a]}: ${first.why}.`,
              hintFor(w, first.a, service.host, port, hosts),
            ),
          );
        }
      }
    }
  }
  return out;
}
