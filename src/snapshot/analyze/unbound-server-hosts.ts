import type { Diagnostic } from '../../model/index.js';
import { labelsMatch } from '../labels.js';
import type { Snapshot } from '../types.js';
import { finding } from './codes.js';
import { serverHostBinds, virtualServicesFor } from './gateway-binding.js';
import { gatewayKey } from './rule-scope.js';

/**
 * TG1005: a Gateway server host that no VirtualService bound to the Gateway (listing it and exported to its
 * namespace) has a host in common with. The gateway then has nothing to route for that host and port: HTTP gets
 * 404 NR (vhost blackhole:<port>), TLS connections close (filter_chain_not_found). Servers that need no
 * VirtualService are skipped: AUTO_PASSTHROUGH, and HTTP servers that only redirect to HTTPS; so are Gateways
 * that select no gateway workload (IST0101 already says so).
 */
export function analyzeUnboundServerHosts(snapshot: Snapshot): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const gw of snapshot.byKind.Gateway) {
    if (!snapshot.egressGateways.some((g) => labelsMatch(gw.spec.selector, g.labels))) continue;
    const bound = virtualServicesFor(snapshot, gw);
    gw.spec.servers.forEach((server, i) => {
      if (server.tls?.mode === 'AUTO_PASSTHROUGH' || server.tls?.httpsRedirect) return;
      server.hosts.forEach((host, j) => {
        if (bound.some((vs) => serverHostBinds(gw, host, vs))) return;
        out.push(
          finding(
            'GatewayServerWithoutVirtualService',
            gw,
            `spec.servers[${i}].hosts[${j}]`,
            `No VirtualService bound to Gateway ${gatewayKey(gw)} has a host matching ${host} on port ${server.port.number}: the gateway has no route for it (HTTP 404 NR, TLS connections closed).`,
            `Add a VirtualService with host ${host.slice(host.indexOf('/') + 1)} and gateways: [${gatewayKey(gw)}], or remove the host from the server.`,
          ),
        );
      });
    });
  }
  return out;
}
