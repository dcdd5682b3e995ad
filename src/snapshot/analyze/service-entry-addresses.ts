import type { Diagnostic } from '../../model/index.js';
import type { Snapshot } from '../types.js';
import { finding } from './codes.js';

/**
 * IST0134, as istioctl's ProtocolAddressesAnalyzer: a ServiceEntry without addresses whose port is TCP (an unset
 * protocol reads as TCP after ingest) can only be matched by port, so its listener 0.0.0.0:<port> takes every
 * connection to that port, whatever the destination IP. One finding per such port. istioctl skips the check when
 * DNS capture with address auto-allocation is on; tollgate has neither, so it always applies.
 */
export function analyzeServiceEntryAddresses(snapshot: Snapshot): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const se of snapshot.byKind.ServiceEntry) {
    if (se.spec.addresses.length > 0) continue;
    se.spec.ports.forEach((p, i) => {
      if (p.protocol !== 'TCP') return;
      out.push(
        finding(
          'ServiceEntryAddressesRequired',
          se,
          `spec.ports[${i}]`,
          `ServiceEntry ${se.meta.namespace}/${se.meta.name} has TCP port ${p.number} (${p.name || 'unnamed'}) but no addresses: every TCP connection to port ${p.number} is sent to [${se.spec.hosts.join(', ')}], whatever its destination IP.`,
          "Add the service's IPs or CIDRs to spec.addresses, or use protocol TLS (routed by SNI) or HTTP (routed by Host) if the traffic is.",
        ),
      );
    });
  }
  return out;
}
