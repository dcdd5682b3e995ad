// `tollgate logs`: a proxy's access log.
import type { ProxyStatus } from '../controller/index.js';
import { PROXY_ADMIN_PORT } from '../runtime/proxy-admin.js';
import type http from 'node:http';
import { readText, send, type AdminClient } from './client.js';
import type { Io } from './io.js';

/**
 * A proxy's access log. In local mode the controller serves it; a proxy run on its own (`tollgate proxy`) serves
 * it on its pod address at PROXY_ADMIN_PORT, found from the address the controller reports for it.
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
  // Not local mode: the proxies run as their own processes.
  const { body: status } = await client.get<{ proxies: ProxyStatus[] }>('/v1/status');
  const found = status.proxies.find((p) => p.name === proxy && p.namespace === namespace && p.connected && p.ip);
  if (!found) {
    const known = status.proxies.filter((p) => p.connected).map((p) => `${p.name} -n ${p.namespace}`);
    io.err(`error: no connected proxy ${proxy} in namespace ${namespace}; connected: ${known.join(', ') || 'none'}`);
    return 1;
  }
  const url = `http://${found.ip!.includes(':') ? `[${found.ip}]` : found.ip}:${PROXY_ADMIN_PORT}/logs?${params}`;
  let direct: http.IncomingMessage;
  try {
    direct = await send('GET', new URL(url));
  } catch (err) {
    const cause = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    io.err(
      `error: cannot reach the access log of ${proxy}.${namespace} at ${url} (${cause}); ` +
        'a proxy started with `tollgate proxy` serves it there while it runs',
    );
    return 1;
  }
  if (direct.statusCode !== 200) {
    io.err(`error: ${proxy}.${namespace} answered ${direct.statusCode} at ${url}`);
    return 1;
  }
  return copyToStdout(direct);
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
