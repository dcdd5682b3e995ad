// `tollgate logs`: the access log of a pod, or of every replica of a workload or gateway merged.
import type { ProxyStatus } from '../controller/index.js';
import { createInterface } from 'node:readline';
import { podPrefix } from '../runtime/log-buffer.js';
import { PROXY_ADMIN_PORT } from '../runtime/proxy-admin.js';
import type http from 'node:http';
import { readText, send, type AdminClient } from './client.js';
import type { Io } from './io.js';

/**
 * A proxy's access log: PROXY is a pod, or a workload or gateway whose replicas' lines are merged, each prefixed
 * with its pod as `kubectl logs -l ... --prefix` prints them. In local mode the controller serves it; a proxy run on
 * its own (`tollgate proxy`) serves it on its pod address at PROXY_ADMIN_PORT, found from the address the
 * controller reports for it.
 */
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
  if (res.statusCode === 200) return copyToStdout(res);
  const body = errorBody(await readText(res));
  if (res.statusCode !== 404 || !body.error?.startsWith('no such endpoint')) {
    io.err(`error: ${body.error ?? `controller answered ${res.statusCode}`}`);
    return 1;
  }
  // Not local mode: the proxies run as their own processes, each serving its own log.
  const { body: status } = await client.get<{ proxies: ProxyStatus[] }>('/v1/status');
  const pods = status.proxies.filter(
    (p) => (p.name === proxy || p.pod === proxy) && p.namespace === namespace && p.connected && p.ip,
  );
  if (pods.length === 0) {
    const known = status.proxies.filter((p) => p.connected).map((p) => `${p.name} -n ${p.namespace}`);
    io.err(
      `error: no connected proxy ${proxy} in namespace ${namespace}; connected: ${[...new Set(known)].join(', ') || 'none'}`,
    );
    return 1;
  }
  const streams: { pod: string; res: http.IncomingMessage }[] = [];
  for (const p of pods) {
    const url = `http://${p.ip!.includes(':') ? `[${p.ip}]` : p.ip}:${PROXY_ADMIN_PORT}/logs?${params}`;
    try {
      const res = await send('GET', new URL(url));
      if (res.statusCode !== 200) {
        io.err(`error: ${p.pod}.${namespace} answered ${res.statusCode} at ${url}`);
        return 1;
      }
      streams.push({ pod: p.pod, res });
    } catch (err) {
      const cause = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      io.err(
        `error: cannot reach the access log of ${p.pod}.${namespace} at ${url} (${cause}); ` +
          'a proxy started with `tollgate proxy` serves it there while it runs',
      );
      return 1;
    }
  }
  if (streams.length === 1) return copyToStdout(streams[0]!.res);
  // Several replicas: each line with its pod, as `kubectl logs -l ... --prefix` prints them.
  await Promise.all(streams.map(({ pod, res }) => copyLines(res, podPrefix(pod))));
  return 0;
}

async function copyLines(res: http.IncomingMessage, prefix: string): Promise<void> {
  const lines = createInterface({ input: res });
  for await (const line of lines) process.stdout.write(`${prefix}${line}\n`);
}

async function copyToStdout(res: http.IncomingMessage): Promise<number> {
  for await (const chunk of res) process.stdout.write(chunk as Buffer);
  return 0;
}

function errorBody(text: string): { error?: string } {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as { error?: string }) : {};
  } catch {
    return {};
  }
}
