// `tollgate get pods`: every proxy replica as kubectl lists pods. The controller knows which replicas are declared,
// connected, endpoints (READY) and on which config version; in local mode `up`'s supervisor adds what it knows of
// the processes: phase, restarts, age.
import type { ProxyStatus } from '../controller/index.js';
import type { AdminClient } from './client.js';
import { age } from './get-columns.js';
import { table, type Io } from './io.js';

/** A pod as `up`'s supervisor reports it (GET /v1/pods; absent in the separate-process layout). */
interface SupervisedPod {
  readonly pod: string;
  readonly namespace: string;
  readonly phase: string;
  readonly restarts: number;
  readonly createdAt: number;
  readonly ip: string;
}

export const POD_KIND_NAMES = new Set(['pod', 'pods', 'po']);

export async function getPodsCommand(
  client: AdminClient,
  io: Io,
  name: string | undefined,
  opts: { namespace: string; allNamespaces: boolean },
): Promise<number> {
  const [{ body: status }, supervised] = await Promise.all([
    client.get<{ proxies: ProxyStatus[] }>('/v1/status'),
    client.get<{ pods: SupervisedPod[] }>('/v1/pods').then(
      (r) => r.body.pods,
      () => [] as SupervisedPod[],
    ),
  ]);
  const byPod = new Map(supervised.map((p) => [`${p.namespace}/${p.pod}`, p] as const));
  const rows: { status?: ProxyStatus; pod?: SupervisedPod }[] = status.proxies.map((p) => ({
    status: p,
    pod: byPod.get(`${p.namespace}/${p.pod}`),
  }));
  const seen = new Set(status.proxies.map((p) => `${p.namespace}/${p.pod}`));
  // Pods the controller no longer lists (stopped streams, still exiting) are still pods until they are gone.
  for (const p of supervised) if (!seen.has(`${p.namespace}/${p.pod}`)) rows.push({ pod: p });
  const now = new Date();
  const shown = rows
    .map(({ status: s, pod }) => ({
      namespace: s?.namespace ?? pod!.namespace,
      name: s?.pod ?? pod!.pod,
      workload: s?.name,
      cells: [
        s?.ready ? '1/1' : '0/1',
        pod?.phase ?? (s?.draining ? 'Terminating' : s?.connected ? 'Running' : 'Pending'),
        pod ? String(pod.restarts) : '0',
        pod ? age(new Date(pod.createdAt).toISOString(), now) : '<unknown>',
        s?.ip ?? pod?.ip ?? '<none>',
        s?.acked ?? '<none>',
      ],
    }))
    .filter((r) => opts.allNamespaces || r.namespace === opts.namespace)
    .filter((r) => name === undefined || r.name === name || r.workload === name);
  if (shown.length === 0) {
    io.err(
      name
        ? `error: pod "${name}" not found in namespace ${opts.namespace}`
        : `No resources found in ${opts.namespace} namespace.`,
    );
    return name ? 1 : 0;
  }
  const header = [
    ...(opts.allNamespaces ? ['NAMESPACE'] : []),
    'NAME',
    'READY',
    'STATUS',
    'RESTARTS',
    'AGE',
    'IP',
    'VERSION',
  ];
  io.out(table([header, ...shown.map((r) => [...(opts.allNamespaces ? [r.namespace] : []), r.name, ...r.cells])]));
  return 0;
}
