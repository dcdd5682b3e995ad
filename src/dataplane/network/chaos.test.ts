// No fault in one connection reaches another, nor the process: resets, half-closes and garbage at every stage
// (mid-CONNECT, mid-TLS, mid-headers, mid-body, mid-tunnel) on each listener kind, then every listener still serves.
import assert from 'node:assert/strict';
import net, { type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { cluster, type Harness, send, sidecarConfig, startPlane } from '../testing/fixtures.js';
import { connectThrough, httpOver, startEchoServer, startTls } from '../testing/tls-fixtures.js';
import { captureClientHello, type ListenerKinds, startEveryListenerKind } from '../testing/listener-kinds.js';

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
  let kinds: ListenerKinds;
  let echo: Awaited<ReturnType<typeof startEchoServer>>;
  let hello: Buffer;
  let planes: ListenerKinds['planes'] = [];
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown): void => void uncaught.push(err);

  before(async () => {
    process.on('uncaughtException', onUncaught);
    kinds = await startEveryListenerKind();
    planes = kinds.planes;
    echo = await startEchoServer();
    hello = await captureClientHello('tls.test');
  });

  after(async () => {
    process.off('uncaughtException', onUncaught);
    await kinds.close();
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
