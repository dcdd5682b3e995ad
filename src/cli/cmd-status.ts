// `tollgate status`: each proxy, its config version, and whether it is in sync.
import type { ConfigState, ProxyStatus } from '../controller/index.js';
import { formatDiagnostic, type Diagnostic } from '../model/index.js';
import type { AdminClient } from './client.js';
import { table, type Io } from './io.js';
import { describeConfigState, describeLag } from './wait.js';

/**
 * Each proxy with its config version and whether it is in sync; exit 0 only when all are. A proxy can be in sync
 * and still not work (a gateway proxy that is no endpoint of its Service), so the warnings and errors about the
 * configuration in force, running proxies included, follow the table.
 */
export async function statusCommand(client: AdminClient, io: Io): Promise<number> {
  const [{ body }, { body: findings }] = await Promise.all([
    client.get<{ version: string; config?: ConfigState; proxies: ProxyStatus[] }>('/v1/status'),
    client.get<{ diagnostics: Diagnostic[] }>('/v1/diagnostics'),
  ]);
  const rows = body.proxies.map((p) => [
    `${p.name}.${p.namespace}`,
    p.type === 'router' ? 'gateway' : 'sidecar',
    p.ip ?? '-',
    p.acked ?? '-',
    p.synced ? 'SYNCED' : p.nack ? 'REJECTED' : p.connected ? 'STALE' : 'NOT CONNECTED',
    p.pod,
    podState(p),
  ]);
  io.out(table([['PROXY', 'TYPE', 'ADDRESS', 'VERSION', 'STATUS', 'POD', 'STATE'], ...rows]));
  io.out(`controller config version ${body.version}`);
  const lagging = body.proxies.filter((p) => !p.synced);
  for (const p of lagging) io.err(describeLag(p, body.version));
  const serious = findings.diagnostics.filter((d) => d.level !== 'info');
  for (const d of serious) io.err(formatDiagnostic(d));
  const degraded = describeConfigState(io, body.config);
  return lagging.length === 0 && !degraded ? 0 : 1;
}

/** Whether the replica is an endpoint of its Services: Ready, Starting (no config applied yet), Draining, or -. */
export function podState(p: ProxyStatus): string {
  if (!p.connected) return '-';
  return p.draining ? 'Draining' : p.ready ? 'Ready' : 'Starting';
}
