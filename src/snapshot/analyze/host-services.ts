import { hostCovers, isWildcardHost } from '../host.js';
import type { RegistryService } from '../registry-types.js';
import type { Snapshot } from '../types.js';

/** The services a VirtualService host stands for, as sidecars of one namespace see the registry. */
export interface HostServices {
  /** The service a request for the host reaches: the exact host, else the most specific wildcard entry covering it. */
  readonly reached?: RegistryService;
  /** Every service of the host: `reached` and, for a wildcard host, each visible service under it. */
  readonly all: readonly RegistryService[];
}

export function hostServices(snapshot: Snapshot, host: string, namespace: string): HostServices {
  const reached = snapshot.registry.resolve(host, namespace) ?? snapshot.registry.lookup(host, namespace);
  const all = reached ? [reached] : [];
  if (isWildcardHost(host)) {
    for (const s of snapshot.registry.visibleTo(namespace)) if (s !== reached && hostCovers(host, s.host)) all.push(s);
  }
  return reached ? { reached, all } : { all };
}
