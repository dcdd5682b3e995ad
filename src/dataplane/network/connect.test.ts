// CONNECT at the sidecar: the tunnel is dispatched like an intercepted connection — HTTP routed as HTTP, TLS by
// SNI, TCP by destination — and what nothing takes goes to PassthroughCluster or BlackHoleCluster.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  blackholeChain,
  clusterRoute,
  cluster,
  sidecarConfig,
  startPlane,
  startUpstream,
  tcpChain,
  vhost,
  type Upstream,
} from '../testing/fixtures.js';
import {
  connectThrough,
  httpOver,
  startEchoServer,
  startTls,
  startTlsUpstream,
  type TlsUpstream,
} from '../testing/tls-fixtures.js';
import { refusedPort } from '../../../test/helpers/refused-port.js';

describe('CONNECT at the sidecar', () => {
  let web: Upstream;
  let secure: TlsUpstream;
  let echo: Awaited<ReturnType<typeof startEchoServer>>;

  before(async () => {
    web = await startUpstream((req, res) => res.end(`plain ${req.headers.host}`));
    secure = await startTlsUpstream(['tls.test']);
    echo = await startEchoServer();
  });
  after(async () => {
    await web.close();
    await secure.close();
    await echo.close();
  });

  function config(mode: 'ALLOW_ANY' | 'REGISTRY_ONLY') {
    return sidecarConfig({
      routeConfigs: [{ name: '80', virtualHosts: [vhost('web.test:80', ['web.test'], [clusterRoute('r', 'web')])] }],
      clusters: [
        cluster('PassthroughCluster', 'ORIGINAL_DST'),
        cluster('BlackHoleCluster', 'STATIC'),
        cluster('web', 'STATIC', [{ address: '127.0.0.1', port: web.port }]),
        cluster('outbound|443||tls.test', 'STATIC', [{ address: '127.0.0.1', port: secure.port }]),
        cluster('outbound|5432||db.test', 'STATIC', [{ address: '127.0.0.1', port: echo.port }]),
      ],
      filterChains: [
        {
          name: '80|http',
          match: { destinationPort: 80, transportProtocol: 'raw_buffer' },
          filter: { kind: 'http', routeConfigName: '80' },
        },
        tcpChain(
          '443|tls.test',
          { destinationPort: 443, serverNames: ['tls.test'], transportProtocol: 'tls' },
          'outbound|443||tls.test',
        ),
        tcpChain('5432|db.test', { destinationPort: 5432, destinations: ['db.test'] }, 'outbound|5432||db.test'),
      ],
      ...(mode === 'REGISTRY_ONLY' ? { defaultFilterChain: blackholeChain } : {}),
    });
  }

  it('routes HTTP inside a tunnel to an HTTP port by the route config of that port', async () => {
    const h = await startPlane(config('REGISTRY_ONLY'));
    try {
      const tunnel = await connectThrough(h.port(), 'web.test:80');
      assert.equal(tunnel.status, 200);
      const answer = await httpOver(tunnel.socket, 'web.test');
      assert.match(answer, /^HTTP\/1\.1 200 OK/);
      assert.match(answer, /plain web\.test$/);
      await h.waitForLogs(1);
      const log = h.logs[0]!.record;
      assert.equal(log.method, 'GET');
      assert.equal(log.upstream_cluster, 'web');
      assert.equal(log.route_name, 'r');
    } finally {
      await h.close();
    }
  });

  it('routes TLS by the SNI of its ClientHello, without decrypting it, and logs the tunnel once', async () => {
    const h = await startPlane(config('REGISTRY_ONLY'));
    try {
      const tunnel = await connectThrough(h.port(), 'tls.test:443');
      assert.equal(tunnel.status, 200);
      const tlsSocket = await startTls(tunnel.socket, 'tls.test');
      const answer = await httpOver(tlsSocket, 'tls.test');
      assert.match(answer, /hello over tls$/);
      assert.equal(secure.seen.at(-1)?.servername, 'tls.test', 'the upstream terminated the client TLS itself');
      await h.waitForLogs(1);
      const log = h.logs[0]!.record;
      assert.equal(log.method, 'CONNECT');
      assert.equal(log.authority, 'tls.test:443');
      assert.equal(log.response_code, 200);
      assert.equal(log.requested_server_name, 'tls.test');
      assert.equal(log.upstream_cluster, 'outbound|443||tls.test');
      assert.equal(log.upstream_host, `127.0.0.1:${secure.port}`);
      assert.ok(log.bytes_received > 100 && log.bytes_sent > 100, 'bytes both ways are counted');
    } finally {
      await h.close();
    }
  });

  it('REGISTRY_ONLY: refuses an unregistered destination before opening the tunnel, and says why', async () => {
    const h = await startPlane(config('REGISTRY_ONLY'));
    try {
      const reply = await connectThrough(h.port(), 'unknown.test:443');
      assert.equal(reply.status, 502);
      assert.match(reply.text, /REGISTRY_ONLY/);
      await h.waitForLogs(1);
      const log = h.logs[0]!.record;
      assert.equal(log.method, 'CONNECT');
      assert.equal(log.response_code, 502);
      assert.equal(log.route_name, 'block_all');
      assert.equal(log.upstream_cluster, 'BlackHoleCluster');
    } finally {
      await h.close();
    }
  });

  it('REGISTRY_ONLY: a registered name with another SNI inside is dropped at the ClientHello (BlackHoleCluster)', async () => {
    const h = await startPlane(config('REGISTRY_ONLY'));
    try {
      const tunnel = await connectThrough(h.port(), 'tls.test:443');
      assert.equal(tunnel.status, 200);
      await assert.rejects(startTls(tunnel.socket, 'evil.test'));
      await h.waitForLogs(1);
      const log = h.logs[0]!.record;
      assert.equal(log.requested_server_name, 'evil.test');
      assert.equal(log.upstream_cluster, 'BlackHoleCluster');
      assert.equal(log.response_flags, 'UH');
    } finally {
      await h.close();
    }
  });

  it('routes TCP by destination name and port', async () => {
    const h = await startPlane(config('REGISTRY_ONLY'));
    try {
      const tunnel = await connectThrough(h.port(), 'db.test:5432');
      assert.equal(tunnel.status, 200);
      const got = await new Promise<string>((resolve) => {
        tunnel.socket.once('data', (d: Buffer) => resolve(d.toString()));
        tunnel.socket.write('ping');
      });
      assert.equal(got, 'echo:ping');
      tunnel.socket.end();
      await h.waitForLogs(1);
      assert.equal(h.logs[0]!.record.upstream_cluster, 'outbound|5432||db.test');
    } finally {
      await h.close();
    }
  });

  it('ALLOW_ANY: passes an unknown destination through to where the CONNECT names', async () => {
    const h = await startPlane(config('ALLOW_ANY'));
    try {
      const tunnel = await connectThrough(h.port(), `127.0.0.1:${echo.port}`);
      assert.equal(tunnel.status, 200);
      const got = await new Promise<string>((resolve) => {
        tunnel.socket.once('data', (d: Buffer) => resolve(d.toString()));
        tunnel.socket.write('hi');
      });
      assert.equal(got, 'echo:hi');
      tunnel.socket.end();
      await h.waitForLogs(1);
      assert.equal(h.logs[0]!.record.upstream_cluster, 'PassthroughCluster');
      assert.equal(h.logs[0]!.record.upstream_host, `127.0.0.1:${echo.port}`);
    } finally {
      await h.close();
    }
  });

  it('ALLOW_ANY: a destination that refuses the connection is answered 503 UF before any tunnel', async () => {
    const h = await startPlane(config('ALLOW_ANY'));
    try {
      const port = await refusedPort();
      const reply = await connectThrough(h.port(), `127.0.0.1:${port}`);
      assert.equal(reply.status, 503);
      await h.waitForLogs(1);
      assert.equal(h.logs[0]!.record.response_flags, 'UF');
    } finally {
      await h.close();
    }
  });

  it('answers a CONNECT whose authority is not host:port with 400', async () => {
    const h = await startPlane(config('ALLOW_ANY'));
    try {
      for (const bad of ['no-port.test', 'a.test:0', 'a.test:99999', '[::1:80', 'a b:80']) {
        const reply = await connectThrough(h.port(), bad);
        assert.equal(reply.status, 400, bad);
      }
    } finally {
      await h.close();
    }
  });
});
