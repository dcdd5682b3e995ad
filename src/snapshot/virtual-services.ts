import type { Resource } from '../model/index.js';
import { HostMap } from './host.js';

export const MESH_GATEWAY = 'mesh';

/**
 * VirtualServices by the gateway they bind to ("mesh" or "namespace/name") and, for the mesh, by host. Order is
 * resource order, which stands for creation order: for sidecars the first VirtualService claiming a host wins,
 * as in pilot (a later one for the same host is ignored there too). A VirtualService without hosts is a delegate
 * (pilot's DelegateVirtualServices): it binds to nothing and is reached only through `delegate()`.
 */
export class VirtualServiceIndex {
  private readonly byGateway = new Map<string, Resource<'VirtualService'>[]>();
  private readonly meshHosts = new HostMap<Resource<'VirtualService'>>();
  private readonly delegates = new Map<string, Resource<'VirtualService'>>();

  constructor(virtualServices: readonly Resource<'VirtualService'>[]) {
    for (const vs of virtualServices) {
      if (vs.spec.hosts.length === 0) {
        const key = `${vs.meta.namespace}/${vs.meta.name}`;
        if (!this.delegates.has(key)) this.delegates.set(key, vs);
        continue;
      }
      for (const gw of new Set(vs.spec.gateways)) {
        const list = this.byGateway.get(gw);
        if (list) list.push(vs);
        else this.byGateway.set(gw, [vs]);
      }
      if (vs.spec.gateways.includes(MESH_GATEWAY)) for (const h of vs.spec.hosts) this.meshHosts.add(h, vs);
    }
  }

  /** VirtualServices listing this gateway ("mesh" or "namespace/name"). */
  forGateway(gateway: string): readonly Resource<'VirtualService'>[] {
    return this.byGateway.get(gateway) ?? [];
  }

  /** Mesh-bound VirtualServices with a host covering `host`: exact hosts first, then wildcards, most specific first. */
  meshForHost(host: string): readonly Resource<'VirtualService'>[] {
    return this.meshHosts.matching(host);
  }

  /** The delegate (host-less) VirtualService of that name, if any. */
  delegate(namespace: string, name: string): Resource<'VirtualService'> | undefined {
    return this.delegates.get(`${namespace}/${name}`);
  }
}
