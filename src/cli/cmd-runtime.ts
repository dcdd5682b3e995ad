// exec: run a command as a workload.
import { spawn } from 'node:child_process';
import type { ProxyStatus } from '../controller/index.js';
import { SIDECAR_CAPTURE_PORT } from '../proxy-config/types.js';
import type { AdminClient } from './client.js';
import type { Io } from './io.js';

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
