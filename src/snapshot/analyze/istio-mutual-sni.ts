import type { ClientTLSSettings, Diagnostic, Resource, TrafficPolicy } from '../../model/index.js';
import { HostMap, hostCovers } from '../host.js';
import { labelsMatch } from '../labels.js';
import { kubeHost } from '../registry-build.js';
import type { Snapshot } from '../types.js';
import { finding } from './codes.js';
import { gatewayKey } from './rule-scope.js';

type DestinationRule = Resource<'DestinationRule'>;

/** A client TLS setting that applies to one port, with its field path. */
interface PortTls {
  readonly tls: ClientTLSSettings;
  readonly field: string;
  readonly subset?: string;
}

/** The TLS settings a policy gives `port`: its portLevelSettings entry's tls, else its top-level tls. */
function tlsForPort(
  policy: TrafficPolicy | undefined,
  path: string,
  port: number,
  subset?: string,
): PortTls | undefined {
  if (!policy) return undefined;
  const i = policy.portLevelSettings.findIndex((p) => p.port === port && p.tls);
  const level = policy.portLevelSettings[i];
  const extra = subset !== undefined ? { subset } : {};
  if (level?.tls) return { tls: level.tls, field: `${path}.portLevelSettings[${i}].tls`, ...extra };
  return policy.tls ? { tls: policy.tls, field: `${path}.tls`, ...extra } : undefined;
}

function settingsFor(dr: DestinationRule, port: number): PortTls[] {
  const out: PortTls[] = [];
  const top = tlsForPort(dr.spec.trafficPolicy, 'spec.trafficPolicy', port);
  if (top) out.push(top);
  dr.spec.subsets.forEach((s, k) => {
    const t = tlsForPort(s.trafficPolicy, `spec.subsets[${k}].trafficPolicy`, port, s.name);
    if (t) out.push(t);
  });
  return out;
}

/**
 * TG1006: a Gateway HTTPS server with tls.mode ISTIO_MUTUAL only accepts connections whose SNI matches one of
 * its hosts (the filter chain's server_names), but a client DestinationRule for the gateway's Service that sets
 * ISTIO_MUTUAL on that port (per port or for all ports, at top level or in a subset) has no `sni`, or one no
 * server host covers. Without `sni` sidecars send outbound_.<port>_.<subset>_.<host>, so the gateway closes the
 * connection (filter_chain_not_found). Servers with host "*" match any SNI and are skipped.
 */
export function analyzeIstioMutualSni(snapshot: Snapshot): Diagnostic[] {
  const rules = new HostMap<DestinationRule>();
  for (const dr of snapshot.byKind.DestinationRule) rules.add(dr.spec.host, dr);
  const out: Diagnostic[] = [];
  const reported = new Set<string>();
  for (const gw of snapshot.byKind.Gateway) {
    const hostsByPort = new Map<number, string[]>();
    for (const s of gw.spec.servers) {
      if (s.port.protocol !== 'HTTPS' || s.tls?.mode !== 'ISTIO_MUTUAL') continue;
      hostsByPort.set(s.port.number, [
        ...(hostsByPort.get(s.port.number) ?? []),
        ...s.hosts.map((h) => h.slice(h.indexOf('/') + 1)),
      ]);
    }
    const services = snapshot.egressGateways
      .filter((g) => labelsMatch(gw.spec.selector, g.labels))
      .map((g) => kubeHost(g.name, g.namespace));
    for (const [port, hosts] of hostsByPort) {
      if (hosts.includes('*')) continue;
      for (const service of services) {
        for (const dr of rules.matching(service)) {
          for (const { tls, field, subset } of settingsFor(dr, port)) {
            if (tls.mode !== 'ISTIO_MUTUAL') continue;
            if (tls.sni !== undefined && hosts.some((h) => hostCovers(h, tls.sni ?? ''))) continue;
            const key = `${dr.meta.namespace}/${dr.meta.name}|${field}|${port}`;
            if (reported.has(key)) continue;
            reported.add(key);
            const sent = tls.sni ?? `outbound_.${port}_.${subset ?? ''}_.${service}`;
            out.push(
              finding(
                'IstioMutualSniMismatch',
                dr,
                tls.sni !== undefined ? `${field}.sni` : `${field}.mode`,
                `Sidecars using DestinationRule ${dr.meta.namespace}/${dr.meta.name} send ISTIO_MUTUAL to ${service}:${port} with SNI ${sent}${tls.sni === undefined ? ' (no sni set)' : ''}, but Gateway ${gatewayKey(gw)} only accepts SNI [${hosts.join(', ')}] on port ${port}: connections are closed (filter_chain_not_found).`,
                `Set sni to the external host the gateway serves (${hosts[0] ?? ''}) in this tls block.`,
              ),
            );
          }
        }
      }
    }
  }
  return out;
}
