import { hostIntersection } from './host.js';

/**
 * The host a Gateway server host ("[namespace/]dnsName") and a VirtualService host have in common, or undefined.
 * The namespace part scopes which VirtualServices may bind: "*" (or none) any, "." the Gateway's namespace,
 * otherwise that namespace. Wildcards work both ways: server "*.example.com" takes VS "dev.example.com", server
 * "dev.example.com" takes VS "*.example.com" (as dev.example.com).
 */
export function serverHostIntersection(
  serverHost: string,
  gatewayNamespace: string,
  vsNamespace: string,
  vsHost: string,
): string | undefined {
  const slash = serverHost.indexOf('/');
  const ns = slash < 0 ? '*' : serverHost.slice(0, slash);
  const dns = slash < 0 ? serverHost : serverHost.slice(slash + 1);
  if (ns !== '*' && (ns === '.' ? gatewayNamespace : ns) !== vsNamespace) return undefined;
  return hostIntersection(dns, vsHost);
}
