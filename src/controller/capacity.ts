// How many proxies the mesh can run. In local mode every proxy needs its own pod address from --pod-cidr; more
// Deployments than addresses is a refusal at apply time, naming what does not fit, never a crash later.
import { resourceKey, type Diagnostic } from '../model/index.js';
import type { ProxyDeclaration, Snapshot } from '../snapshot/index.js';
import { makeDiagnostic } from '../validation/index.js';

export interface ProxyCapacity {
  /** How many proxies can run at once. */
  readonly limit: number;
  /** The setting that decides it, as the user types it ("--pod-cidr 127.0.100.0/24"). */
  readonly setting: string;
}

export const proxyKey = (p: { type: string; namespace: string; name: string }): string =>
  `${p.type}/${p.namespace}/${p.name}`;

/**
 * The declared proxies that find no place: those in `keep` (already running) keep theirs, the others take what is
 * left in declared order (gateways first), as the local mesh hands addresses out.
 */
export function overCapacity(
  declared: readonly ProxyDeclaration[],
  keep: ReadonlySet<string>,
  capacity: ProxyCapacity,
): ProxyDeclaration[] {
  const ordered = [...declared.filter((p) => keep.has(proxyKey(p))), ...declared.filter((p) => !keep.has(proxyKey(p)))];
  return ordered.slice(capacity.limit);
}

export function capacityFindings(
  snapshot: Snapshot,
  left: readonly ProxyDeclaration[],
  capacity: ProxyCapacity,
): Diagnostic[] {
  const deployments = new Map(snapshot.byKind.Deployment.map((d) => [resourceKey(d), d] as const));
  const gateways = snapshot.proxies.filter((p) => p.type === 'router').length;
  const sidecars = snapshot.proxies.length - gateways;
  return left.map((p) => {
    const deployment = p.type === 'sidecar' ? deployments.get(resourceKey({ kind: 'Deployment', meta: p })) : undefined;
    const what = deployment
      ? `Deployment ${p.namespace}/${p.name} needs a pod address for its sidecar`
      : `egress gateway ${p.namespace}/${p.name} needs a pod address`;
    return makeDiagnostic('ProxyCapacityExceeded', {
      message:
        `${what}, but ${capacity.setting} has ${capacity.limit} and the mesh declares ${snapshot.proxies.length} ` +
        `proxies (${gateways} gateways, ${sidecars} sidecars)`,
      ...(deployment
        ? {
            position: deployment.source,
            resource: { kind: 'Deployment', namespace: p.namespace, name: p.name },
            field: 'metadata.name',
          }
        : {}),
      hint: 'start `tollgate up` with a wider --pod-cidr (127.0.96.0/20 holds 4094), or remove a Deployment',
    });
  });
}
