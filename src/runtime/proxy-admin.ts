// A proxy's access log over HTTP, for `tollgate logs`. In local mode the controller's admin API serves it (the
// proxies run in its process); a proxy run on its own (`tollgate proxy`) serves it itself on its pod address at
// port 15000, Envoy's admin port, where `tollgate logs` finds it from the address the controller reports.
import type http from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { podPrefix, type LogBuffer } from './log-buffer.js';

export const PROXY_ADMIN_PORT = 15000;

/** One pod's log, as `tollgate logs` merges several. */
export interface PodLog {
  readonly pod: string;
  readonly logs: LogBuffer;
}

/**
 * Writes the pods' lines (`tail=N`: the last N of each, as kubectl does) merged in arrival order; with `follow=1`,
 * new lines until the client leaves. Lines of several pods carry kubectl's `--prefix` ("[pod/NAME/istio-proxy] "),
 * so one pod's lines are exactly its access log.
 */
export function serveLogs(sources: readonly PodLog[], url: URL, res: http.ServerResponse): void {
  const tailParam = url.searchParams.get('tail');
  if (tailParam !== null && !/^\d{1,7}$/.test(tailParam)) {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `tail: expected a whole number of lines, got ${JSON.stringify(tailParam)}` }));
    return;
  }
  const tail = tailParam === null ? undefined : Number(tailParam);
  const prefixed = sources.length > 1 || url.searchParams.get('prefix') === '1';
  const prefixOf = (pod: string): string => (prefixed ? podPrefix(pod) : '');
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
  const merged = sources
    .flatMap((s) => s.logs.entries(tail).map((e) => ({ seq: e.seq, line: `${prefixOf(s.pod)}${e.line}` })))
    .sort((a, b) => a.seq - b.seq);
  for (const e of merged) res.write(`${e.line}\n`);
  if (url.searchParams.get('follow') !== '1') {
    res.end();
    return;
  }
  const unfollow = sources.map((s) => s.logs.follow((line) => res.write(`${prefixOf(s.pod)}${line}\n`)));
  res.on('close', () => {
    for (const u of unfollow) u();
  });
}

/** GET /logs on `address`:15000. */
export async function startProxyAdmin(
  logs: LogBuffer,
  address: string,
  port = PROXY_ADMIN_PORT,
): Promise<{ readonly url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    if (req.method === 'GET' && url.pathname === '/logs') return serveLogs([{ pod: '', logs }], url, res);
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `no such endpoint: ${req.method} ${url.pathname}; this proxy serves GET /logs` }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`the proxy's log endpoint cannot listen on ${address}:${port}: ${err.code ?? err.message}`)),
    );
    server.listen(port, address, resolve);
  });
  const bound = server.address() as AddressInfo;
  return {
    url: `http://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
