// A proxy's access log over HTTP, for `tollgate logs`. In local mode the controller's admin API serves it (the
// proxies run in its process); a proxy run on its own (`tollgate proxy`) serves it itself on its pod address at
// port 15000, Envoy's admin port, where `tollgate logs` finds it from the address the controller reports.
import type http from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LogBuffer } from './log-buffer.js';

export const PROXY_ADMIN_PORT = 15000;

/** Writes the buffer's lines (`tail=N`: the last N) as text; with `follow=1`, new lines until the client leaves. */
export function serveLogs(logs: LogBuffer, url: URL, res: http.ServerResponse): void {
  const tailParam = url.searchParams.get('tail');
  if (tailParam !== null && !/^\d{1,7}$/.test(tailParam)) {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `tail: expected a whole number of lines, got ${JSON.stringify(tailParam)}` }));
    return;
  }
  const tail = tailParam === null ? undefined : Number(tailParam);
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
  for (const line of logs.tail(tail)) res.write(`${line}\n`);
  if (url.searchParams.get('follow') !== '1') {
    res.end();
    return;
  }
  const unfollow = logs.follow((line) => res.write(`${line}\n`));
  res.on('close', unfollow);
}

/** GET /logs on `address`:15000. */
export async function startProxyAdmin(
  logs: LogBuffer,
  address: string,
  port = PROXY_ADMIN_PORT,
): Promise<{ readonly url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    if (req.method === 'GET' && url.pathname === '/logs') return serveLogs(logs, url, res);
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
