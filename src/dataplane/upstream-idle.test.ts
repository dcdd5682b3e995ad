// Pooled upstream connections: kept between requests, closed after Envoy's idle timeout, or a second before the
// server's own `Keep-Alive: timeout=N` (not pooled at all when that leaves nothing), so a request is never sent
// on a connection the server is closing.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { it } from 'node:test';
import { cluster, clusterRoute, send, sidecarConfig, startPlane, vhost } from './testing/fixtures.js';

/** An upstream that answers every request with `keepAlive` as its Keep-Alive header (none when undefined). */
async function keepAliveUpstream(keepAlive: string | undefined): Promise<{
  port: number;
  /** When each connection was closed by the proxy, in ms after its last answer; undefined while open. */
  connections: { closedAfterMs: number | undefined }[];
  close(): void;
}> {
  const connections: { closedAfterMs: number | undefined }[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    const conn = { closedAfterMs: undefined as number | undefined };
    connections.push(conn);
    sockets.add(socket);
    let answeredAt = 0;
    let buffered = '';
    socket.on('error', () => {});
    socket.on('end', () => socket.end());
    socket.on('close', () => {
      conn.closedAfterMs ??= Date.now() - answeredAt;
    });
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      while (buffered.includes('\r\n\r\n')) {
        buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4);
        const hint = keepAlive === undefined ? '' : `keep-alive: ${keepAlive}\r\n`;
        socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n${hint}\r\nok`);
        answeredAt = Date.now();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

async function throughPlane(keepAlive: string | undefined, requests: number, waitMs: number) {
  const upstream = await keepAliveUpstream(keepAlive);
  const h = await startPlane(
    sidecarConfig({
      routeConfigs: [{ name: '80', virtualHosts: [vhost('svc.test:80', ['svc.test'], [clusterRoute('r', 'c')])] }],
      clusters: [cluster('c', 'STATIC', [{ address: '127.0.0.1', port: upstream.port }])],
    }),
  );
  try {
    for (let i = 0; i < requests; i++) assert.equal((await send(h.port(), 'http://svc.test/')).status, 200);
    await new Promise((r) => setTimeout(r, waitMs));
    return upstream.connections.map((c) => c.closedAfterMs);
  } finally {
    await h.close();
    upstream.close();
  }
}

it('without a hint, one pooled connection serves every request and stays open', async () => {
  const closed = await throughPlane(undefined, 3, 300);
  assert.deepEqual(closed, [undefined]);
});

it('Keep-Alive: timeout=2: the pooled connection is closed by the proxy about a second after the answer', async () => {
  const closed = await throughPlane('timeout=2', 2, 1_900);
  assert.equal(closed.length, 1, 'the second request reused the connection');
  const after = closed[0];
  assert.ok(after !== undefined && after >= 900 && after < 1_900, `closed ${after} ms after the answer`);
});

it('Keep-Alive: timeout=1 leaves no safe idle time: every connection is closed after its answer', async () => {
  const closed = await throughPlane('timeout=1', 2, 200);
  assert.equal(closed.length, 2, 'a new connection per request');
  for (const after of closed) assert.ok(after !== undefined && after < 200, `closed ${after} ms after the answer`);
});
