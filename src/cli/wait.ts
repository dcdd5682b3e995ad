import type { ConfigState, ProxyStatus } from '../controller/index.js';
import { formatDiagnostic } from '../model/index.js';
import type { AdminClient } from './client.js';
import type { Io } from './io.js';

/** Waits until every proxy has ACKed `version`; names the ones that did not, and why. */
export async function waitForSync(client: AdminClient, io: Io, version: string, timeoutMs: number): Promise<number> {
  const { body } = await client.get<{ ok: boolean; lagging: ProxyStatus[] }>(
    `/v1/wait?version=${encodeURIComponent(version)}&timeoutMs=${timeoutMs}`,
  );
  if (body.ok) return 0;
  for (const p of body.lagging) io.err(`error: ${describeLag(p, version)}`);
  io.err(
    `error: ${body.lagging.length} proxies did not acknowledge config version ${version} within ${timeoutMs / 1000}s`,
  );
  return 1;
}

export function describeLag(p: ProxyStatus, version: string): string {
  const name = `${p.type === 'router' ? 'gateway' : 'sidecar'} ${p.name}.${p.namespace}`;
  if (p.nack) return `${name} rejected config ${p.nack.version}: ${p.nack.error}`;
  if (!p.connected) return `${name} is not connected to the controller`;
  return `${name} is at version ${p.acked ?? '(none)'}, wanted ${version}`;
}

/** Says plainly when the configuration served is not the config directory's; returns whether it is not. */
export function describeConfigState(io: Io, config: ConfigState | undefined): boolean {
  if (!config || config.state === 'current') return false;
  io.err(
    config.state === 'withheld'
      ? 'error: the controller serves NO configuration: the config directory had errors at start and there is no last good configuration'
      : 'error: the config directory has errors; the last good configuration of these files stays in force:',
  );
  for (const d of config.problems) io.err(`  ${formatDiagnostic(d)}`);
  io.err('  (tollgate analyze lists every finding)');
  return true;
}
