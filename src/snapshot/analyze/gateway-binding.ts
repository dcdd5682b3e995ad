import type { GatewayServer, Resource } from '../../model/index.js';
import { serverHostIntersection } from '../gateway-hosts.js';
import type { Snapshot } from '../types.js';
import { isExportedTo } from '../visibility.js';
import { gatewayKey } from './rule-scope.js';

type Gateway = Resource<'Gateway'>;
type VirtualService = Resource<'VirtualService'>;

/** VirtualServices that list the Gateway and are exported to its namespace, in resource (creation) order. */
export function virtualServicesFor(snapshot: Snapshot, gw: Gateway): readonly VirtualService[] {
  return snapshot.virtualServices
    .forGateway(gatewayKey(gw))
    .filter((vs) => isExportedTo(vs.spec.exportTo, vs.meta.namespace, gw.meta.namespace));
}

/** Whether one server host ("[ns/]dnsName") takes some host of the VirtualService. */
export function serverHostBinds(gw: Gateway, serverHost: string, vs: VirtualService): boolean {
  return vs.spec.hosts.some(
    (h) => serverHostIntersection(serverHost, gw.meta.namespace, vs.meta.namespace, h) !== undefined,
  );
}

/** Whether the server takes some host of the VirtualService (the VirtualService binds to that server). */
export function serverBinds(gw: Gateway, server: GatewayServer, vs: VirtualService): boolean {
  return server.hosts.some((sh) => serverHostBinds(gw, sh, vs));
}

/** Servers that route by SNI without terminating TLS, so `tls` rules apply (HTTPS or TLS with PASSTHROUGH). */
export function isPassthroughServer(server: GatewayServer): boolean {
  return (server.port.protocol === 'TLS' || server.port.protocol === 'HTTPS') && server.tls?.mode === 'PASSTHROUGH';
}
