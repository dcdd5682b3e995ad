import { isIP } from 'node:net';
import { CLUSTER_DOMAIN } from '../model/index.js';
import type { RegistryService, Snapshot } from '../snapshot/index.js';

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

const addressCache = new WeakMap<Snapshot, Map<string, readonly string[]>>();

/**
 * The VIPs a ServiceEntry declares, as vhost domains (pilot generateVirtualHostDomains adds each service address):
 * a request with Host = the VIP reaches the service. CIDR ranges other than single addresses cannot be a Host
 * and are left out; IPv6 is bracketed as it appears in a Host header.
 */
export function addressDomains(snapshot: Snapshot, svc: RegistryService): readonly string[] {
  const by = svc.declaredBy;
  if (svc.origin !== 'ServiceEntry' || by?.kind !== 'ServiceEntry') return [];
  let cache = addressCache.get(snapshot);
  if (!cache) addressCache.set(snapshot, (cache = new Map()));
  const key = `${by.namespace}/${by.name}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const se = snapshot.byKind.ServiceEntry.find((r) => r.meta.namespace === by.namespace && r.meta.name === by.name);
  const out: string[] = [];
  for (const raw of se?.spec.addresses ?? []) {
    const [ip, bits] = raw.split('/') as [string, string | undefined];
    const family = isIP(ip);
    if (family === 0) continue;
    if (bits !== undefined && Number(bits) !== (family === 4 ? 32 : 128)) continue;
    out.push(family === 6 ? `[${ip.toLowerCase()}]` : ip);
  }
  cache.set(key, out);
  return out;
}
