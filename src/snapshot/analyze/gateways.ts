import type { Diagnostic } from '../../model/index.js';
import { labelsMatch } from '../labels.js';
import type { Snapshot } from '../types.js';
import { finding } from './codes.js';

/**
 * Gateways against the gateway workloads: IST0101 when the selector picks no egress gateway (istioctl reports a
 * selector matching no pod the same way), IST0162 when a server port is not a port of the selected gateway's
 * Service (the listener then binds the bare port number, which clients do not reach through the Service).
 */
export function analyzeGateways(snapshot: Snapshot): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const gw of snapshot.byKind.Gateway) {
    const selected = snapshot.egressGateways.filter((g) => labelsMatch(gw.spec.selector, g.labels));
    const selector = Object.entries(gw.spec.selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    if (selected.length === 0) {
      out.push(
        finding(
          'ReferencedResourceNotFound',
          gw,
          'spec.selector',
          `no egress gateway workload has the labels ${selector}: this Gateway applies nowhere`,
          'No egress gateway has these labels; fix the selector or declare the gateway (IstioOperator egressGateways).',
        ),
      );
      continue;
    }
    gw.spec.servers.forEach((server, i) => {
      for (const g of selected) {
        if (g.ports.some((p) => p.port === server.port.number)) continue;
        out.push(
          finding(
            'GatewayPortNotDefinedOnService',
            gw,
            `spec.servers[${i}].port.number`,
            `server port ${server.port.number} is not a port of the gateway's Service ${g.name}.${g.namespace} (selector ${selector}): no listener is opened for it`,
            `Add port ${server.port.number} to the gateway's Service ports, or use one of: ${g.ports.map((p) => p.port).join(', ')}.`,
          ),
        );
      }
    });
  }
  return out;
}
