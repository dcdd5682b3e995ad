// exec, logs, status: commands about running proxies.
import { spawn } from 'node:child_process';
import type { ConfigState, ProxyStatus } from '../controller/index.js';
import { SIDECAR_CAPTURE_PORT } from '../proxy-config/types.js';
import type { AdminClient } from './client.js';
import { table, type Io } from './cmd-config.js';
import { describeConfigState, describeLag } from './wait.js';

/** Runs CMD as the workload: its HTTP traffic goes through the workload's sidecar. Exits with CMD's code. */
export async function execCommand(
  client: AdminClient,
  io: Io,
  workload: string,
  namespace: string,
  command: readonly string[],
): Promise<number> {
  if (command.length === 0)
    throw new Error('exec: give a command after --, e.g. tollgate exec sleep -- curl -I aliyun.com');
  const { body } = await client.get<{ proxies: ProxyStatus[] }>('/v1/status');
  const sidecar = body.proxies.find((p) => p.type === 'sidecar' && p.name === workload && p.namespace === namespace);
  if (!sidecar?.connected || !sidecar.ip) {
    const known = body.proxies.filter((p) => p.type === 'sidecar').map((p) => `${p.name} -n ${p.namespace}`);
    io.err(
      sidecar
        ? `error: the sidecar of ${workload}.${namespace} is not running yet`
        : `error: no workload ${workload} in namespace ${namespace}; workloads: ${known.join(', ') || 'none (apply a Deployment)'}`,
    );
    return 1;
  }
  const proxy = `http://${sidecar.ip}:${SIDECAR_CAPTURE_PORT}`;
  const env = { ...process.env, http_proxy: proxy, HTTP_PROXY: proxy, no_proxy: '', NO_PROXY: '' };
  return new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env });
    child.on('error', (err) => {
      io.err(`error: cannot run ${command[0]}: ${err.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + 1 : 1)));
  });
}

export async function logsCommand(
  client: AdminClient,
  io: Io,
  proxy: string,
  namespace: string,
  opts: { follow: boolean; tail?: number },
): Promise<number> {
  const params = new URLSearchParams();
  if (opts.follow) params.set('follow', '1');
  if (opts.tail !== undefined) params.set('tail', String(opts.tail));
  const res = await client.stream(`/v1/logs/${encodeURIComponent(namespace)}/${encodeURIComponent(proxy)}?${params}`);
  if (res.status !== 200) {
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    io.err(`error: ${body.error ?? `controller answered ${res.status}`}`);
    return 1;
  }
  if (!res.body) return 0;
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    process.stdout.write(decoder.decode(chunk, { stream: true }));
  }
  return 0;
}

/** Each proxy with its config version and whether it is in sync; exit 0 only when all are. */
export async function statusCommand(client: AdminClient, io: Io): Promise<number> {
  const { body } = await client.get<{ version: string; config?: ConfigState; proxies: ProxyStatus[] }>('/v1/status');
  const rows = body.proxies.map((p) => [
    `${p.name}.${p.namespace}`,
    p.type === 'router' ? 'gateway' : 'sidecar',
    p.ip ?? '-',
    p.acked ?? '-',
    p.synced ? 'SYNCED' : p.nack ? 'REJECTED' : p.connected ? 'STALE' : 'NOT CONNECTED',
  ]);
  io.out(table([['PROXY', 'TYPE', 'ADDRESS', 'VERSION', 'STATUS'], ...rows]));
  io.out(`controller config version ${body.version}`);
  const lagging = body.proxies.filter((p) => !p.synced);
  for (const p of lagging) io.err(describeLag(p, body.version));
  const degraded = describeConfigState(io, body.config);
  return lagging.length === 0 && !degraded ? 0 : 1;
}
