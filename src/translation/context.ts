import type { Destination } from '../model/index.js';
import type { NodeIdentity } from '../proxy-config/types.js';
import type { Snapshot } from '../snapshot/index.js';
import { outboundClusterName } from './names.js';

/** What VirtualService route translation needs to know about where the routes will live. */
export interface RouteContext {
  readonly snapshot: Snapshot;
  readonly node: NodeIdentity;
  /** "mesh" for sidecars, "namespace/name" of the Gateway resource for routers. */
  readonly gateway: string;
  /** The service port the route config serves (the sidecar's destination port, the gateway's server port). */
  readonly port: number;
}

/**
 * The cluster a destination names. Short names are qualified relative to the VirtualService's namespace and
 * mesh-internal forms map to the registry's canonical host; an unknown host keeps its name, so the route points
 * at a cluster that does not exist (503 NC), as in Istio. Port: explicit, else the service's only port, else the
 * route config's port.
 */
export function destinationCluster(dest: Destination, vsNamespace: string, ctx: RouteContext): string {
  const service = ctx.snapshot.registry.resolve(dest.host, vsNamespace);
  const host = service?.host ?? dest.host;
  const only = service && service.ports.length === 1 ? service.ports[0]?.number : undefined;
  const port = dest.port ?? only ?? ctx.port;
  return outboundClusterName(port, dest.subset, host);
}
