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

/** One replica: what needs a pod address. */
export const podKey = (p: { type: string; namespace: string; pod: string }): string =>
  `${p.type}/${p.namespace}/${p.pod}`;

/** Every pod of the declarations, gateways first, in declared order. */
function podsOf(declared: readonly ProxyDeclaration[]): { decl: ProxyDeclaration; key: string }[] {
  return declared.flatMap((d) => d.pods.map((pod) => ({ decl: d, key: podKey({ ...d, pod }) })));
}

/**
 * The declarations with pods that find no place: pods in `keep` (already running) keep theirs, the others take
 * what is left in declared order (gateways first), as the local mesh hands addresses out.
 */
export function overCapacity(
  declared: readonly ProxyDeclaration[],
  keep: ReadonlySet<string>,
  capacity: ProxyCapacity,
): ProxyDeclaration[] {
  const pods = podsOf(declared);
  const ordered = [...pods.filter((p) => keep.has(p.key)), ...pods.filter((p) => !keep.has(p.key))];
  return [...new Set(ordered.slice(capacity.limit).map((p) => p.decl))];
}

/** The pod keys of the declarations, for `keep` above. */
export function podKeys(declared: readonly ProxyDeclaration[]): Set<string> {
  return new Set(podsOf(declared).map((p) => p.key));
}

export function capacityFindings(
  snapshot: Snapshot,
  left: readonly ProxyDeclaration[],
  capacity: ProxyCapacity,
): Diagnostic[] {
  const deployments = new Map(snapshot.byKind.Deployment.map((d) => [resourceKey(d), d] as const));
  const count = (type: string): number =>
    snapshot.proxies.filter((p) => p.type === type).reduce((n, p) => n + p.pods.length, 0);
  const gateways = count('router');
  const sidecars = count('sidecar');
  return left.map((p) => {
    const deployment = p.type === 'sidecar' ? deployments.get(resourceKey({ kind: 'Deployment', meta: p })) : undefined;
    const what = deployment
      ? `Deployment ${p.namespace}/${p.name} needs a pod address for each sidecar (${p.replicas} replicas)`
      : `egress gateway ${p.namespace}/${p.name} needs a pod address for each of its ${p.replicas} replicas`;
    return makeDiagnostic('ProxyCapacityExceeded', {
      message:
        `${what}, but ${capacity.setting} has ${capacity.limit} and the mesh declares ${gateways + sidecars} ` +
        `proxies (${gateways} gateway replicas, ${sidecars} sidecars)`,
      ...(deployment
        ? {
            position: deployment.source,
            resource: { kind: 'Deployment', namespace: p.namespace, name: p.name },
            field: 'metadata.name',
          }
        : {}),
      hint: 'start `tollgate up` with a wider --pod-cidr (127.0.96.0/20 holds 4094), or remove a Deployment or replicas',
    });
  });
}
