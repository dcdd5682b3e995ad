import type { Diagnostic, GatewayServer, Resource } from '../../model/index.js';
import type { Snapshot } from '../types.js';
import { finding } from './codes.js';
import { isPassthroughServer, serverBinds, virtualServicesFor } from './gateway-binding.js';
import { gatewayKey, matchesFor, rulesOf, type RuleRef } from './rule-scope.js';

type VirtualService = Resource<'VirtualService'>;

/** Whether the rule applies at the Gateway on the server's port (a match without port takes every port). */
function appliesOnServer(vs: VirtualService, rule: RuleRef, gateway: string, server: GatewayServer): boolean {
  return matchesFor(vs, rule.match, gateway).some((m) => m.port === undefined || m.port === server.port.number);
}

/**
 * TG1011: a Gateway server that passes TLS through (HTTPS or TLS, tls.mode PASSTHROUGH) is bound by a
 * VirtualService whose rules for it are http or tcp rules only. Pilot builds such a server's filter chains from
 * `tls` matches alone, one per SNI host, so the gateway has no chain for the VirtualService's hosts and closes every
 * connection (NR, filter_chain_not_found). Reported once per VirtualService and Gateway, at the first such rule.
 */
export function analyzePassthroughServerRoutes(snapshot: Snapshot): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const gw of snapshot.byKind.Gateway) {
    const key = gatewayKey(gw);
    const reported = new Set<VirtualService>();
    for (const server of gw.spec.servers) {
      if (!isPassthroughServer(server)) continue;
      for (const vs of virtualServicesFor(snapshot, gw)) {
        if (reported.has(vs) || !serverBinds(gw, server, vs)) continue;
        const rules = rulesOf(vs).filter((r) => appliesOnServer(vs, r, key, server));
        const other = rules.find((r) => r.kind !== 'tls');
        if (!other || rules.some((r) => r.kind === 'tls')) continue;
        reported.add(vs);
        const port = server.port.number;
        const hosts = server.hosts.map((h) => h.slice(h.indexOf('/') + 1));
        out.push(
          finding(
            'PassthroughServerWithoutTlsRoutes',
            vs,
            other.field,
            `Gateway ${key} passes TLS through on port ${port} (protocol ${server.port.protocol}, tls.mode PASSTHROUGH) and routes those connections by SNI with tls rules only; VirtualService ${vs.meta.namespace}/${vs.meta.name} has only ${other.kind} rules for it, so the gateway has no filter chain for [${vs.spec.hosts.join(', ')}] and closes the connections (NR, filter_chain_not_found).`,
            `Write the gateway's route as a tls rule (match gateways: [${key}], port: ${port}, sniHosts: [${hosts[0] ?? ''}]), or terminate TLS at the server (tls.mode SIMPLE with a credentialName, or ISTIO_MUTUAL) if the gateway should route ${other.kind === 'http' ? 'HTTP' : 'the decrypted bytes'}.`,
          ),
        );
      }
    }
  }
  return out;
}
