// No fault in one connection reaches another, nor the process: resets, half-closes and garbage at every stage
// (mid-CONNECT, mid-TLS, mid-headers, mid-body, mid-tunnel) on each listener kind, then every listener still serves.
import assert from 'node:assert/strict';
import net, { type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import type { ProxyConfig } from '../../proxy-config/types.js';
import {
  blackholeChain,
  cluster,
  clusterRoute,
  gatewayConfig,
  type Harness,
  send,
  sidecarConfig,
  startPlane,
  startUpstream,
  tcpChain,
  testNode,
  type Upstream,
  vhost,
} from '../testing/fixtures.js';
import {
  connectThrough,
  httpOver,
  serverCertificate,
  startEchoServer,
  startTls,
  startTlsUpstream,
  type TlsUpstream,
} from '../testing/tls-fixtures.js';

/**
 * Opens a connection, runs `act` on it, then resets it (RST, not FIN) unless `act` closed it. A connection `act`
 * half-closed is destroyed instead: a reset after a FIN leaves Node's own shutdown request pending at exit.
 */
function abuse(port: number, act: (s: Socket) => Promise<void> | void): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    s.once('connect', async () => {
      try {
        await act(s);
      } catch {
        // the peer may already have closed; that is the point
      }
      if (s.destroyed) return;
      if (s.writableEnded) s.destroy();
      else s.resetAndDestroy();
    });
  });
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The first bytes of a real ClientHello for `servername`, captured from Node's own TLS client. */
async function clientHello(servername: string): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const hello = new Promise<Buffer>((resolve) =>
    server.once('connection', (s) => s.once('data', (d: Buffer) => resolve(d))),
  );
  const client = tls.connect({ port, host: '127.0.0.1', servername, rejectUnauthorized: false });
  client.on('error', () => {});
  const bytes = await hello;
  client.destroy();
  server.close();
  return bytes;
}

const STAGES: readonly [string, (hello: Buffer) => (s: Socket) => Promise<void> | void][] = [
  ['reset at once', () => () => {}],
  ['half-close without a byte', () => (s) => void s.end()],
  ['garbage', () => (s) => void s.write('\x00\xff\x16\x03garbage\r\n\r\n')],
  ['half the headers', () => (s) => void s.write('GET /x HTTP/1.1\r\nHost: web.test\r\nX-A: ')],
  [
    'half the body',
    () => async (s) => {
      s.write('POST /x HTTP/1.1\r\nHost: web.test\r\nContent-Length: 1000\r\n\r\n0123456789');
      await pause(20);
    },
  ],
  [
    'half a ClientHello',
    (hello) => async (s) => {
      s.write(hello.subarray(0, Math.floor(hello.length / 2)));
      await pause(20);
    },
  ],
  ['a ClientHello, then gone', (hello) => (s) => void s.write(hello)],
  [
    'CONNECT, then gone before the answer',
    () => (s) => void s.write('CONNECT web.test:80 HTTP/1.1\r\nHost: web.test:80\r\n\r\n'),
  ],
  [
    'CONNECT, then garbage',
    () => async (s) => {
      s.write('CONNECT web.test:80 HTTP/1.1\r\nHost: web.test:80\r\n\r\n');
      await pause(20);
      s.write('\x01\x02garbage');
      await pause(20);
    },
  ],
  [
    'CONNECT, then half a ClientHello',
    (hello) => async (s) => {
      s.write('CONNECT tls.test:443 HTTP/1.1\r\nHost: tls.test:443\r\n\r\n');
      await pause(20);
      s.write(hello.subarray(0, 40));
      await pause(20);
    },
  ],
  [
    'CONNECT, tunnel up, then gone mid-stream',
    (hello) => async (s) => {
      s.write('CONNECT tls.test:443 HTTP/1.1\r\nHost: tls.test:443\r\n\r\n');
      await pause(20);
      s.write(hello);
      await pause(30);
    },
  ],
];

describe('faults on one connection stay on that connection', () => {
  let web: Upstream;
  let secure: TlsUpstream;
  let echo: Awaited<ReturnType<typeof startEchoServer>>;
  let hello: Buffer;
  const planes: { name: string; h: Harness }[] = [];
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown): void => void uncaught.push(err);

  before(async () => {
    process.on('uncaughtException', onUncaught);
    web = await startUpstream((_req, res) => res.end('ok'));
    secure = await startTlsUpstream(['tls.test', 'gw.test']);
    echo = await startEchoServer();
    hello = await clientHello('tls.test');
    const clusters = [
      cluster('PassthroughCluster', 'ORIGINAL_DST'),
      cluster('BlackHoleCluster', 'STATIC'),
      cluster('web', 'STATIC', [{ address: '127.0.0.1', port: web.port }]),
      cluster('tls', 'STATIC', [{ address: '127.0.0.1', port: secure.port }]),
    ];
    const routes = [{ name: '80', virtualHosts: [vhost('web.test:80', ['web.test'], [clusterRoute('r', 'web')])] }];
    const sidecar = sidecarConfig({
      routeConfigs: routes,
      clusters,
      filterChains: [
        {
          name: '80|http',
          match: { destinationPort: 80, transportProtocol: 'raw_buffer' },
          filter: { kind: 'http', routeConfigName: '80' },
        },
        tcpChain('443|tls.test', { destinationPort: 443, serverNames: ['tls.test'], transportProtocol: 'tls' }, 'tls'),
      ],
      defaultFilterChain: blackholeChain,
    });
    const gatewayHttp = gatewayConfig({
      routeConfigs: [
        { name: 'http.80', virtualHosts: [vhost('web.test:80', ['web.test'], [clusterRoute('r', 'web')])] },
      ],
      clusters,
    });
    const cert = serverCertificate(['gw.test']);
    const gatewayTls: ProxyConfig = {
      ...gatewayHttp,
      node: testNode('127.0.0.1', 'router'),
      listeners: [
        {
          kind: 'gateway-network',
          name: '0.0.0.0_8443',
          address: '127.0.0.1',
          port: 0,
          servicePort: 443,
          filterChains: [
            tcpChain('pass', { serverNames: ['tls.test'], transportProtocol: 'tls' }, 'tls'),
            {
              name: 'term',
              match: { serverNames: ['gw.test'], transportProtocol: 'tls' },
              tls: {
                mode: 'SIMPLE',
                certificateChain: { pem: cert.certificatePem },
                privateKey: { pem: cert.keyPem },
                subjectAltNames: [],
              },
              filter: { kind: 'http', routeConfigName: 'http.80' },
            },
          ],
        },
      ],
    };
    planes.push({ name: 'sidecar', h: await startPlane(sidecar) });
    planes.push({ name: 'gateway HTTP', h: await startPlane(gatewayHttp) });
    planes.push({ name: 'gateway TLS', h: await startPlane(gatewayTls) });
  });

  after(async () => {
    process.off('uncaughtException', onUncaught);
    for (const p of planes) await p.h.close();
    await web.close();
    await secure.close();
    await echo.close();
  });

  it('survives every abuse on every listener kind, then serves each of them normally', async () => {
    for (const { name, h } of planes) {
      for (const [stage, make] of STAGES) {
        await abuse(h.port(), make(hello));
        assert.deepEqual(uncaught, [], `${name}: ${stage}`);
      }
    }
    // The same, all at once.
    await Promise.all(planes.flatMap(({ h }) => STAGES.map(([, make]) => abuse(h.port(), make(hello)))));
    await pause(50);
    assert.deepEqual(uncaught, []);

    const [sidecar, gatewayHttp, gatewayTls] = planes.map((p) => p.h) as [Harness, Harness, Harness];
    assert.equal((await send(sidecar.port(), 'http://web.test/')).status, 200);
    const tunnel = await connectThrough(sidecar.port(), 'tls.test:443');
    assert.equal(tunnel.status, 200);
    assert.match(await httpOver(await startTls(tunnel.socket, 'tls.test'), 'tls.test'), /hello over tls$/);
    assert.equal((await send(gatewayHttp.port(), '/', { headers: { host: 'web.test' } })).status, 200);
    const passthrough = await startTls(net.connect(gatewayTls.port(), '127.0.0.1'), 'tls.test');
    assert.match(await httpOver(passthrough, 'tls.test'), /hello over tls$/);
    const terminated = await startTls(net.connect(gatewayTls.port(), '127.0.0.1'), 'gw.test');
    assert.match(await httpOver(terminated, 'web.test'), /^HTTP\/1\.1 200/);
  });

  it('an upstream that resets mid-tunnel closes that tunnel only', async () => {
    const sidecar = planes[0]!.h;
    const flaky = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => s.resetAndDestroy());
    });
    await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', r));
    const port = (flaky.address() as net.AddressInfo).port;
    try {
      const cfg = sidecarConfig({ clusters: [cluster('PassthroughCluster', 'ORIGINAL_DST')] });
      const h = await startPlane(cfg);
      try {
        const tunnel = await connectThrough(h.port(), `127.0.0.1:${port}`);
        assert.equal(tunnel.status, 200);
        const closed = new Promise<void>((r) => tunnel.socket.once('close', () => r()));
        tunnel.socket.on('error', () => {});
        tunnel.socket.write('hello');
        await closed;
        await h.waitForLogs(1);
        assert.equal(h.logs[0]!.record.response_flags, 'UC');
      } finally {
        await h.close();
      }
      assert.equal((await send(sidecar.port(), 'http://web.test/')).status, 200);
      assert.deepEqual(uncaught, []);
    } finally {
      flaky.close();
    }
  });
});
