// The response head the client gets from upstream's: hop-by-hop headers gone (any case, and whatever the Connection
// header names), x-envoy-upstream-service-time the proxy's own, repeated lines kept as lines, one Content-Length.
// Both ways of writing it are held: as the lines came (no header mutation on the route) and through the headers
// object (a mutation to apply).
import assert from 'node:assert/strict';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { HeaderMutation, Route } from '../proxy-config/types.js';
import { rawWithoutHopByHop } from './headers.js';
import { cluster, sendRaw, sidecarConfig, startPlane, vhost } from './testing/fixtures.js';

const UPSTREAM_HEAD = [
  'HTTP/1.1 200 OK',
  'Set-Cookie: a=1',
  'Set-Cookie: b=2',
  'X-Envoy-Upstream-Service-Time: 999',
  'Connection: keep-alive, X-Private',
  'X-Private: secret',
  'Keep-Alive: timeout=30',
  'Proxy-Authenticate: Basic',
  'TE: trailers',
  'Content-Length: 2',
  'Content-Length: 2',
  'Cache-Control: no-cache',
  'Cache-Control: no-store',
].join('\r\n');

describe('rawWithoutHopByHop', () => {
  it('drops hop-by-hop lines in any case, the names Connection lists, the replaced name and repeated lengths', () => {
    const raw = [
      'Connection',
      'close, X-A',
      'x-a',
      '1',
      'TRANSFER-ENCODING',
      'chunked',
      'Upgrade',
      'websocket',
      'X-Replaced',
      'old',
      'content-length',
      '3',
      'Content-Length',
      '3',
      'Vary',
      'a',
      'vary',
      'b',
    ];
    const kept = rawWithoutHopByHop(raw, 'x-replaced', 'new');
    assert.equal(kept.lines, 'content-length: 3\r\nVary: a\r\nvary: b\r\nx-replaced: new\r\n');
    assert.deepEqual([kept.hasDate, kept.hasContentLength], [false, true]);
  });

  it('keeps every line of a head with nothing to drop, in its order, and says what framing needs', () => {
    const raw = ['Server', 'nginx', 'DATE', 'x', 'Location', '/y'];
    const kept = rawWithoutHopByHop(raw, 'x-envoy-upstream-service-time', '7');
    assert.equal(kept.lines, 'Server: nginx\r\nDATE: x\r\nLocation: /y\r\nx-envoy-upstream-service-time: 7\r\n');
    assert.deepEqual([kept.hasDate, kept.hasContentLength], [true, false]);
  });
});

describe('the response head passed on to the client', () => {
  let upstream: Server;
  let port: number;
  before(async () => {
    upstream = createServer((socket) => {
      socket.on('error', () => {});
      socket.on('data', () => socket.write(`${UPSTREAM_HEAD}\r\n\r\nok`));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    port = (upstream.address() as AddressInfo).port;
  });
  after(() => upstream.close());

  function config(responseHeaders?: HeaderMutation) {
    const route: Route = {
      name: 'r',
      match: { headers: [], queryParams: [] },
      action: { kind: 'cluster', clusters: [{ cluster: 'site', weight: 100 }] },
      ...(responseHeaders ? { responseHeaders } : {}),
    };
    return sidecarConfig({
      routeConfigs: [{ name: '80', virtualHosts: [vhost('site.test:80', ['site.test'], [route])] }],
      clusters: [cluster('site', 'STATIC', [{ address: '127.0.0.1', port }])],
    });
  }

  async function headLines(responseHeaders?: HeaderMutation): Promise<{ lines: string[]; body: string }> {
    const h = await startPlane(config(responseHeaders));
    try {
      const reply = await sendRaw(h.port(), 'GET / HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n');
      const [head, body] = reply.split('\r\n\r\n') as [string, string];
      return { lines: head.split('\r\n').slice(1), body };
    } finally {
      await h.close();
    }
  }

  const named = (lines: string[], name: string) => lines.filter((l) => l.toLowerCase().startsWith(`${name}:`));

  it('as the lines came, when the route changes no header', async () => {
    const { lines, body } = await headLines();
    assert.equal(body, 'ok');
    assert.deepEqual(named(lines, 'set-cookie'), ['Set-Cookie: a=1', 'Set-Cookie: b=2']);
    assert.deepEqual(named(lines, 'cache-control'), ['Cache-Control: no-cache', 'Cache-Control: no-store']);
    assert.deepEqual(named(lines, 'content-length'), ['Content-Length: 2']);
    const serviceTime = named(lines, 'x-envoy-upstream-service-time');
    assert.equal(serviceTime.length, 1);
    assert.match(serviceTime[0]!, /^x-envoy-upstream-service-time: \d+$/);
    assert.notEqual(serviceTime[0], 'x-envoy-upstream-service-time: 999');
    for (const gone of ['x-private', 'keep-alive', 'proxy-authenticate', 'te'])
      assert.deepEqual(named(lines, gone), []);
    // The client asked to close: the proxy says so, not upstream's keep-alive.
    assert.deepEqual(named(lines, 'connection'), ['Connection: close']);
  });

  it('through the headers object, when the route sets a header', async () => {
    const { lines, body } = await headLines({ set: [['x-route', 'yes']], add: [], remove: [] });
    assert.equal(body, 'ok');
    assert.deepEqual(named(lines, 'x-route'), ['x-route: yes']);
    assert.deepEqual(named(lines, 'set-cookie'), ['set-cookie: a=1', 'set-cookie: b=2']);
    assert.deepEqual(named(lines, 'content-length'), ['content-length: 2']);
    assert.equal(named(lines, 'x-envoy-upstream-service-time').length, 1);
    for (const gone of ['x-private', 'keep-alive', 'proxy-authenticate', 'te'])
      assert.deepEqual(named(lines, gone), []);
  });
});
