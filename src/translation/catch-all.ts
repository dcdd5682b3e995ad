import type { OutboundTrafficPolicyMode } from '../model/index.js';
import { PASSTHROUGH_CLUSTER, type Route, type VirtualHost } from '../proxy-config/types.js';
import { ALLOW_ANY, BLOCK_ALL } from './names.js';

// Istio's sidecar catch-alls (pilot httproute.go): ALLOW_ANY forwards to the original destination with no
// timeout; REGISTRY_ONLY answers 502 with an empty body from the proxy itself.

export function allowAnyRoute(): Route {
  return {
    name: ALLOW_ANY,
    match: { path: { kind: 'prefix', value: '/' }, headers: [], queryParams: [] },
    action: { kind: 'cluster', clusters: [{ cluster: PASSTHROUGH_CLUSTER, weight: 100 }] },
  };
}

export function blockAllRoute(): Route {
  return {
    name: BLOCK_ALL,
    match: { path: { kind: 'prefix', value: '/' }, headers: [], queryParams: [] },
    action: { kind: 'direct', status: 502 },
  };
}

/** ALLOW_ANY_DYNAMIC_DNS has no dynamic forward proxy yet, so it behaves as ALLOW_ANY. */
export function catchAllRoute(mode: OutboundTrafficPolicyMode): Route {
  return mode === 'REGISTRY_ONLY' ? blockAllRoute() : allowAnyRoute();
}

export function catchAllVirtualHost(mode: OutboundTrafficPolicyMode): VirtualHost {
  const route = catchAllRoute(mode);
  return { name: route.name, domains: ['*'], routes: [route] };
}
