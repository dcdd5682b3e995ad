import { CLUSTER_DOMAIN } from '../model/index.js';
import { HostMap } from './host.js';
import type { RegistryService } from './registry-types.js';
import { isExportedTo } from './visibility.js';

function compareServices(a: RegistryService, b: RegistryService): number {
  if (a.host !== b.host) return a.host < b.host ? -1 : 1;
  return a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0;
}

/**
 * Every service the mesh knows, by host. One host may be declared in several namespaces (a ServiceEntry per team);
 * a client sees the ones exported to it and prefers its own namespace's, as pilot's sidecar scope does. Within one
 * namespace the registry holds one service per host (see buildRegistry for the precedence).
 */
export class ServiceRegistry {
  private readonly byHostMap = new HostMap<RegistryService>();
  private readonly ordered: readonly RegistryService[];

  constructor(services: readonly RegistryService[]) {
    this.ordered = [...services].sort(compareServices);
    for (const s of this.ordered) this.byHostMap.add(s.host, s);
  }

  /** All services, sorted by host then namespace. */
  all(): readonly RegistryService[] {
    return this.ordered;
  }

  /** Every declaration of exactly this host, in any namespace, visible or not. */
  declarations(host: string): readonly RegistryService[] {
    return this.byHostMap.get(host);
  }

  /** The service a client in `clientNamespace` reaches for this exact host, if any is visible to it. */
  exact(host: string, clientNamespace: string): RegistryService | undefined {
    return pickVisible(this.byHostMap.get(host), clientNamespace);
  }

  /**
   * The service a request for `host` reaches: the exact host, else the most specific wildcard ServiceEntry host
   * covering it ("*.wikipedia.org" for "en.wikipedia.org").
   */
  lookup(host: string, clientNamespace: string): RegistryService | undefined {
    const exact = this.exact(host, clientNamespace);
    if (exact) return exact;
    for (const s of this.byHostMap.matching(host)) {
      if (s.host !== host && isExportedTo(s.exportTo, s.namespace, clientNamespace)) {
        return pickVisible(this.byHostMap.get(s.host), clientNamespace);
      }
    }
    return undefined;
  }

  /**
   * Mesh-internal names: the full "name.ns.svc.cluster.local", "name.ns.svc", "name.ns" and the short "name"
   * (relative to `namespace`) all find the same Kubernetes or gateway service. Other names must match a host
   * exactly; wildcard ServiceEntries are not consulted (see lookup).
   */
  resolve(name: string, namespace: string): RegistryService | undefined {
    const direct = this.exact(name, namespace);
    if (direct) return direct;
    for (const candidate of expandShortName(name, namespace)) {
      const s = this.exact(candidate, namespace);
      if (s) return s;
    }
    return undefined;
  }

  /**
   * What `resolve` would have found for `name` but for exportTo: the declarations of the name (or of its
   * mesh-internal forms) that `namespace` cannot see. Empty when the name is declared nowhere, or is visible.
   */
  hiddenFrom(name: string, namespace: string): readonly RegistryService[] {
    if (this.resolve(name, namespace)) return [];
    for (const candidate of [name, ...expandShortName(name, namespace)]) {
      const declared = this.byHostMap.get(candidate);
      if (declared.length > 0) return declared;
    }
    return [];
  }

  /** One service per host visible to the namespace (own namespace preferred), sorted by host. */
  visibleTo(clientNamespace: string): RegistryService[] {
    const out: RegistryService[] = [];
    for (const host of this.byHostMap.hosts().sort()) {
      const s = pickVisible(this.byHostMap.get(host), clientNamespace);
      if (s) out.push(s);
    }
    return out;
  }
}

function pickVisible(candidates: readonly RegistryService[], clientNamespace: string): RegistryService | undefined {
  let first: RegistryService | undefined;
  for (const s of candidates) {
    if (!isExportedTo(s.exportTo, s.namespace, clientNamespace)) continue;
    if (s.namespace === clientNamespace) return s;
    first ??= s;
  }
  return first;
}

/** The fully qualified forms a short mesh-internal name may stand for. */
export function expandShortName(name: string, namespace: string): string[] {
  const suffix = `.svc.${CLUSTER_DOMAIN}`;
  if (name.endsWith(suffix)) return [];
  if (name.endsWith('.svc')) return [`${name}.${CLUSTER_DOMAIN}`];
  const dots = name.split('.').length - 1;
  if (dots === 0) return [`${name}.${namespace}${suffix}`];
  if (dots === 1) return [`${name}${suffix}`];
  return [];
}
