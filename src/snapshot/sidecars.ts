import type { Labels, Resource } from '../model/index.js';
import { hostCovers } from './host.js';
import { labelsMatch } from './labels.js';

/**
 * Sidecar resources by namespace. A workload takes the Sidecar in its namespace whose workloadSelector selects
 * it, else its namespace's selector-less Sidecar, else the root namespace's selector-less one. Several candidates:
 * the first by name (Istio reports the conflict: IST0110/IST0111).
 */
export class SidecarIndex {
  private readonly byNamespace = new Map<string, Resource<'Sidecar'>[]>();

  constructor(
    sidecars: readonly Resource<'Sidecar'>[],
    private readonly rootNamespace: string,
  ) {
    for (const s of [...sidecars].sort((a, b) =>
      a.meta.name < b.meta.name ? -1 : a.meta.name > b.meta.name ? 1 : 0,
    )) {
      const list = this.byNamespace.get(s.meta.namespace);
      if (list) list.push(s);
      else this.byNamespace.set(s.meta.namespace, [s]);
    }
  }

  forWorkload(namespace: string, labels: Labels): Resource<'Sidecar'> | undefined {
    const own = this.byNamespace.get(namespace) ?? [];
    const selected = own.find((s) => s.spec.workloadSelector && labelsMatch(s.spec.workloadSelector.labels, labels));
    if (selected) return selected;
    const nsWide = own.find((s) => !s.spec.workloadSelector);
    if (nsWide) return nsWide;
    return (this.byNamespace.get(this.rootNamespace) ?? []).find((s) => !s.spec.workloadSelector);
  }
}

/**
 * Whether a Sidecar's egress hosts ("ns/dnsName") import a host declared in `namespace`. "*" namespace: any;
 * ".": the Sidecar's own namespace; "~": none. No Sidecar or no egress listeners: everything is imported.
 * Egress listeners are treated as one set of hosts; per-port egress listeners are not modelled yet.
 */
export function sidecarImports(sidecar: Resource<'Sidecar'> | undefined, namespace: string, host: string): boolean {
  if (!sidecar || sidecar.spec.egress.length === 0) return true;
  for (const listener of sidecar.spec.egress) {
    for (const entry of listener.hosts) {
      const slash = entry.indexOf('/');
      const ns = slash < 0 ? '*' : entry.slice(0, slash);
      const dns = slash < 0 ? entry : entry.slice(slash + 1);
      if (ns === '~') continue;
      if (ns !== '*' && (ns === '.' ? sidecar.meta.namespace : ns) !== namespace) continue;
      if (hostCovers(dns, host)) return true;
    }
  }
  return false;
}
