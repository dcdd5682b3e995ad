// A pooled keep-alive connection its peer closed (or died on) while the proxy was sending on it: an idempotent
// request without a body is sent again on a new connection (RFC 9110 §9.2.2), whatever the route's retry policy;
// anything else fails as Envoy's router would (503 UC).
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { it } from 'node:test';
import type { Route } from '../proxy-config/types.js';
import { cluster, clusterRoute, send, sidecarConfig, startPlane, vhost } from './testing/fixtures.js';

/**
 * An upstream that answers the first request on each connection (keep-alive) and drops the connection, without a
 * word, as the second one arrives: what a peer that closed an idle connection looks like to whoever reuses it.
 */
async function dropsReusedConnections(): Promise<{ port: number; connections: () => number; close(): void }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    let requests = 0;
    let buffered = '';
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      while (buffered.includes('\r\n\r\n')) {
        buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4);
        if (++requests > 1) {
          socket.destroy();
          return;
        }
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

it('a reused connection that turns out closed: GET is sent again on a new one; POST with a body gets 503 UC', async () => {
  const upstream = await dropsReusedConnections();
  // No retry policy on the route: the replay is not a retry.
  const route: Route = clusterRoute('r', 'c');
  const h = await startPlane(
    sidecarConfig({
      routeConfigs: [{ name: '80', virtualHosts: [vhost('svc.test:80', ['svc.test'], [route])] }],
      clusters: [cluster('c', 'STATIC', [{ address: '127.0.0.1', port: upstream.port }])],
    }),
  );
  try {
    const port = h.port();
    assert.equal((await send(port, 'http://svc.test/')).status, 200);
    const again = await send(port, 'http://svc.test/');
    assert.equal(again.status, 200, 'replayed on a new connection');
    assert.equal(upstream.connections(), 2);
    const post = await send(port, 'http://svc.test/', { method: 'POST', body: 'x' });
    assert.equal(post.status, 503);
    await h.waitForLogs(3);
    assert.equal(h.logs[2]!.record.response_flags, 'UC');
  } finally {
    await h.close();
    upstream.close();
  }
});
