import type { Diagnostic } from '../../model/index.js';
import { labelsMatch } from '../labels.js';
import type { Snapshot } from '../types.js';
import { finding } from './codes.js';

const show = (labels: Readonly<Record<string, string>>): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/**
 * Running gateway proxies against the gateways' Services (live configuration only: it reads the connected
 * instances). A proxy started by hand (`tollgate proxy gateway --label ...`) with the Gateway's selector label but
 * not every label of the Service's selector gets its config and reports in sync, yet it is no endpoint of the
 * Service the sidecars route to: every request through the gateway then gets 503 UH.
 */
export function analyzeGatewayProxies(snapshot: Snapshot): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const proxy of snapshot.instances) {
    if (proxy.type !== 'router') continue;
    const services = snapshot.egressGateways.filter((g) => g.namespace === proxy.namespace);
    if (services.some((g) => labelsMatch(g.labels, proxy.labels))) continue;
    for (const gw of snapshot.byKind.Gateway) {
      if (!labelsMatch(gw.spec.selector, proxy.labels)) continue;
      const wanted = services[0];
      const missing = wanted
        ? Object.entries(wanted.labels)
            .filter(([k, v]) => proxy.labels[k] !== v)
            .map(([k, v]) => `--label ${k}=${v}`)
        : [];
      out.push(
        finding(
          'GatewayProxyNotInService',
          gw,
          'spec.selector',
          wanted
            ? `gateway proxy ${proxy.name}.${proxy.namespace} (labels ${show(proxy.labels)}) takes this Gateway's config but is not an endpoint of Service ${wanted.name}.${wanted.namespace} (selector ${show(wanted.labels)}): requests routed to that Service get 503 UH`
            : `gateway proxy ${proxy.name}.${proxy.namespace} takes this Gateway's config but no egress gateway Service is declared in namespace ${proxy.namespace}: nothing routes to it`,
          wanted
            ? `Restart the proxy with the Service's labels: ${missing.join(' ')} (see docs/separate-processes.md).`
            : `Run the proxy in the namespace of a declared egress gateway, or declare one there (IstioOperator egressGateways).`,
        ),
      );
    }
  }
  return out;
}
