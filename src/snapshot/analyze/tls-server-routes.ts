import type { Diagnostic, GatewayServer, Resource } from '../../model/index.js';
import type { Snapshot } from '../types.js';
import { finding } from './codes.js';
import { serverBinds, virtualServicesFor } from './gateway-binding.js';
import { gatewayKey, ruleAppliesTo } from './rule-scope.js';

type VirtualService = Resource<'VirtualService'>;

/** A TLS server that terminates TLS (mesh mTLS or a server certificate) and then proxies the bytes as TCP. */
function terminatesTls(server: GatewayServer): boolean {
  return server.port.protocol === 'TLS' && (server.tls?.mode === 'ISTIO_MUTUAL' || server.tls?.mode === 'SIMPLE');
}

/**
 * TG1007: a Gateway TLS server with tls.mode ISTIO_MUTUAL or SIMPLE, bound by a VirtualService whose rules for
 * that Gateway are all `tls` rules. Such a server terminates TLS, so the traffic behind it is plain TCP and only
 * `tcp` rules apply (pilot builds its filter chain from tcp routes and ignores the tls block): the gateway has no
 * route and closes the connections. Reported once per VirtualService and Gateway, at the first such tls rule.
 */
export function analyzeTlsServerRoutes(snapshot: Snapshot): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const gw of snapshot.byKind.Gateway) {
    const key = gatewayKey(gw);
    const reported = new Set<VirtualService>();
    gw.spec.servers.forEach((server) => {
      if (!terminatesTls(server)) return;
      for (const vs of virtualServicesFor(snapshot, gw)) {
        if (reported.has(vs) || !serverBinds(gw, server, vs)) continue;
        const tlsRule = vs.spec.tls.findIndex((r) => ruleAppliesTo(vs, r.match, key));
        if (tlsRule < 0 || vs.spec.tcp.some((r) => ruleAppliesTo(vs, r.match, key))) continue;
        reported.add(vs);
        out.push(
          finding(
            'TlsServerNeedsTcpRoutes',
            vs,
            `spec.tls[${tlsRule}]`,
            `Gateway ${key} terminates TLS on port ${server.port.number} (protocol TLS, tls.mode ${server.tls?.mode}), so its traffic is routed by tcp rules only; VirtualService ${vs.meta.namespace}/${vs.meta.name} has only tls rules for it and the gateway will close the connections.`,
            "Write the route as a tcp rule (match gateways/port, route to the destination), or set the server's tls.mode to PASSTHROUGH if the gateway should route by SNI without terminating.",
          ),
        );
      }
    });
  }
  return out;
}
