import { CLUSTER_DOMAIN } from '../model/index.js';

/**
 * The names a sidecar's vhost answers to (pilot generateVirtualHostDomains, ports stripped): the host, and for
 * "name.ns.svc.cluster.local" the forms a client can type: "name.ns" and "name.ns.svc" from any namespace, the
 * bare "name" only from the same namespace.
 */
export function sidecarDomains(host: string, clientNamespace: string): string[] {
  const suffix = `.svc.${CLUSTER_DOMAIN}`;
  if (!host.endsWith(suffix)) return [host];
  const parts = host.slice(0, -suffix.length).split('.');
  if (parts.length !== 2) return [host];
  const [name, ns] = parts as [string, string];
  const out = [host, `${name}.${ns}.svc`, `${name}.${ns}`];
  if (ns === clientNamespace) out.push(name);
  return out;
}
