// Upgrade requests (WebSocket): routed like any request; a 101 from upstream becomes a tunnel, anything else
// (a local reply, an upstream refusing the upgrade) is an ordinary response on that connection.
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseConnectTo } from './connect-to.js';
import { blockAll, sidecarConfig, startPlane } from './testing/fixtures.js';

interface UpgradeReply {
  status: number;
  headers: IncomingMessage['headers'];
  socket?: Socket;
  body?: string;
}

/** Sends an upgrade request through the proxy; resolves with the 101 and its socket, or the plain response. */
function upgrade(proxyPort: number, url: string): Promise<UpgradeReply> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: proxyPort,
      path: url,
      agent: false,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    });
    req.on('upgrade', (res, socket) => resolve({ status: res.statusCode ?? 0, headers: res.headers, socket }));
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function readSome(socket: Socket): Promise<string> {
  return new Promise((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())));
}

describe('upgrades (WebSocket)', () => {
  let upstreamPort = 0;
  const server = createServer((_req, res) => {
    // Paths under /plain refuse the upgrade with an ordinary response.
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('upgrade refused');
  });
  const upgradesSeen: IncomingMessage['headers'][] = [];
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    upgradesSeen.push(req.headers);
    if (req.url === '/plain') {
      socket.end('HTTP/1.1 426 Upgrade Required\r\ncontent-length: 4\r\nconnection: close\r\n\r\nnope');
      return;
    }
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n',
    );
    socket.on('data', (d: Buffer) => socket.write(`echo:${d.toString()}`));
    // A well-behaved peer closes when the other side does; /stubborn keeps its half open.
    if (req.url !== '/stubborn') socket.on('end', () => socket.end());
  });

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    upstreamPort = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('tunnels after a 101: bytes both ways, the upgrade headers reach upstream, one access-log line when closed', async () => {
    const h = await startPlane(sidecarConfig(), {
      connectTo: [parseConnectTo(`ws.test:80:127.0.0.1:${upstreamPort}`)],
    });
    try {
      const reply = await upgrade(h.port(), 'http://ws.test/chat');
      assert.equal(reply.status, 101);
      assert.equal(reply.headers['sec-websocket-accept'], 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
      const seen = upgradesSeen.at(-1)!;
      assert.equal(seen.upgrade, 'websocket');
      assert.match(String(seen.connection), /upgrade/i);
      assert.equal(seen.host, 'ws.test');
      assert.ok(seen['x-request-id']);
      const socket = reply.socket!;
      socket.write('hello');
      assert.equal(await readSome(socket), 'echo:hello');
      socket.write('again');
      assert.equal(await readSome(socket), 'echo:again');
      assert.equal(h.logs.length, 0, 'logged when the tunnel ends, not before');
      socket.end();
      await h.waitForLogs(1);
      const log = JSON.parse(h.logs[0]!.line) as Record<string, unknown>;
      assert.equal(log.response_code, 101);
      assert.equal(log.response_flags, '-');
      assert.equal(log.route_name, 'allow_any');
      assert.equal(log.upstream_cluster, 'PassthroughCluster');
      assert.equal(log.bytes_received, 10);
      assert.equal(log.bytes_sent, 20);
    } finally {
      await h.close();
    }
  });

  it('a peer that keeps its half open after the client closed is cut after a grace period', async () => {
    const h = await startPlane(sidecarConfig(), {
      connectTo: [parseConnectTo(`ws.test:80:127.0.0.1:${upstreamPort}`)],
    });
    try {
      const reply = await upgrade(h.port(), 'http://ws.test/stubborn');
      assert.equal(reply.status, 101);
      const started = Date.now();
      reply.socket!.end();
      await h.waitForLogs(1);
      assert.equal(h.logs.length, 1, 'the tunnel was closed and logged');
      assert.ok(Date.now() - started >= 900, 'not before the grace period');
    } finally {
      await h.close();
    }
  });

  it('an upstream that refuses the upgrade answers like any response', async () => {
    const h = await startPlane(sidecarConfig(), {
      connectTo: [parseConnectTo(`ws.test:80:127.0.0.1:${upstreamPort}`)],
    });
    try {
      const reply = await upgrade(h.port(), 'http://ws.test/plain');
      assert.equal(reply.status, 426);
      assert.equal(reply.body, 'nope');
      await h.waitForLogs(1);
      assert.equal((JSON.parse(h.logs[0]!.line) as { response_code: number }).response_code, 426);
    } finally {
      await h.close();
    }
  });

  it('REGISTRY_ONLY: an upgrade to an unknown host gets the 502 block_all and its connection is closed', async () => {
    const h = await startPlane(sidecarConfig({ defaultRoute: blockAll }));
    try {
      const before = upgradesSeen.length;
      const reply = await upgrade(h.port(), 'http://ws.test/chat');
      assert.equal(reply.status, 502);
      assert.equal(reply.body, '');
      assert.equal(upgradesSeen.length, before, 'nothing reached upstream');
      await h.waitForLogs(1);
      const log = JSON.parse(h.logs[0]!.line) as Record<string, unknown>;
      assert.equal(log.route_name, 'block_all');
      assert.equal(log.response_flags, '-');
    } finally {
      await h.close();
    }
  });
});
