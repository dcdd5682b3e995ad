// Listener -> route config -> virtual host -> first matching route.
import type { CompiledConfig } from './compile-config.js';
import type { CompiledRoute, CompiledRouteConfig, CompiledVirtualHost } from './compile-routes.js';
import type { HttpListener } from './request-handler.js';
import type { RequestView } from './request-view.js';

/** What `selectRoute` passed through on its way, for explanations; requests pass none. */
export interface RouteTrace {
  routeConfig?: CompiledRouteConfig;
  virtualHost?: CompiledVirtualHost;
}

/**
 * Sidecar: the route config named after the destination port, else the listener's default route (allow_any or
 * block_all) applies as is. Gateway: the listener's fixed route config. Undefined means 404 NR.
 */
export function selectRoute(
  config: CompiledConfig,
  listener: HttpListener,
  req: RequestView,
  destinationPort: number,
  trace?: RouteTrace,
): CompiledRoute | undefined {
  const routeConfig =
    listener.kind === 'sidecar-outbound'
      ? config.routeConfigs.get(String(destinationPort))
      : config.routeConfigs.get(listener.routeConfigName);
  if (!routeConfig) return listener.kind === 'sidecar-outbound' ? listener.defaultRoute : undefined;
  if (trace) trace.routeConfig = routeConfig;
  const vhost = routeConfig.findVirtualHost(req.host);
  if (!vhost) return undefined;
  if (trace) trace.virtualHost = vhost;
  for (const route of vhost.routes) if (route.matches(req)) return route;
  return undefined;
}
