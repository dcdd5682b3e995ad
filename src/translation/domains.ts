import { isIP } from 'node:net';
import { CLUSTER_DOMAIN } from '../model/index.js';
import type { RegistryService } from '../snapshot/index.js';

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

const addressCache = new WeakMap<RegistryService, readonly string[]>();

/**
 * The VIPs a ServiceEntry declares, as vhost domains (pilot generateVirtualHostDomains adds each service address):
 * a request with Host = the VIP reaches the service. CIDR ranges other than single addresses cannot be a Host
 * and are left out; IPv6 is bracketed as it appears in a Host header. Cached per (immutable) registry entry.
 */
export function addressDomains(svc: RegistryService): readonly string[] {
  if (svc.addresses.length === 0) return svc.addresses;
  const hit = addressCache.get(svc);
  if (hit) return hit;
  const out: string[] = [];
  for (const raw of svc.addresses) {
    const [ip, bits] = raw.split('/') as [string, string | undefined];
    const family = isIP(ip);
    if (family === 0) continue;
    if (bits !== undefined && Number(bits) !== (family === 4 ? 32 : 128)) continue;
    out.push(family === 6 ? `[${ip.toLowerCase()}]` : ip);
  }
  addressCache.set(svc, out);
  return out;
}
