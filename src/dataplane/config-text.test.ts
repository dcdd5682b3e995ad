// Text from the config on the wire: a VirtualService's header values, rewrites and match values go out (and are
// compared) as their UTF-8 bytes, as Envoy sends them. Heads are written as latin1, so a character above U+00FF
// written as it is would become another byte: U+010A a line feed, which could end a header line early.
import assert from 'node:assert/strict';
import { type AddressInfo, connect, createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Route } from '../proxy-config/types.js';
import { serializeHeaders, utf8Bytes } from './http1/head-writer.js';
import { compileStringMatcher } from './matchers.js';
import { WireError } from './http1/wire.js';
import { anyMatch, cluster, sidecarConfig, startPlane, vhost } from './testing/fixtures.js';

/** Writes `request` on a new connection; resolves with every byte the proxy sent until it closed. */
function exchange(port: number, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
  });
}

/** Head lines of a message, each as its bytes. */
function headLines(message: Buffer): Buffer[] {
  const end = message.indexOf('\r\n\r\n');
  const lines: Buffer[] = [];
  for (let at = 0; at < end; ) {
    const eol = message.indexOf('\r\n', at);
    lines.push(message.subarray(at, eol));
    at = eol + 2;
  }
  return lines;
}

const line = (name: string, value: string): Buffer => Buffer.from(`${name}: ${value}`, 'utf8');
const hasLine = (lines: Buffer[], expected: Buffer): boolean => lines.some((l) => l.equals(expected));

describe('text from the config on the wire', () => {
  let upstream: Server;
  /** The request heads upstream received, as bytes. */
  const received: Buffer[] = [];

  before(async () => {
    upstream = createServer((socket) => {
      let data = Buffer.alloc(0);
      socket.on('error', () => {});
      socket.on('data', (c: Buffer) => {
        data = Buffer.concat([data, c]);
        if (data.indexOf('\r\n\r\n') < 0) return;
        received.push(data);
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  });
  after(() => upstream.close());

  async function plane() {
    const port = (upstream.address() as AddressInfo).port;
    const forward: Route = {
      name: 'forward',
      match: anyMatch,
      action: { kind: 'cluster', clusters: [{ cluster: 'site', weight: 100 }], prefixRewrite: '/ĉaf/' },
      requestHeaders: {
        set: [
          ['x-note', 'café ✓'],
          // U+010A and U+010D: written as latin1 they would be LF and CR, and "injected" a header of its own.
          ['x-split', 'v\u010a\u010dInjected: yes'],
        ],
        add: [],
        remove: [],
      },
      responseHeaders: { set: [['x-reply', 'naïve ✓']], add: [], remove: [] },
    };
    const byLanguage: Route = {
      name: 'french',
      match: {
        headers: [{ name: 'x-lang', match: { kind: 'exact', value: 'français' }, invert: false }],
        queryParams: [],
      },
      action: { kind: 'direct', status: 200, body: 'fr' },
    };
    const other: Route = { name: 'other', match: anyMatch, action: { kind: 'direct', status: 404, body: '' } };
    return startPlane(
      sidecarConfig({
        routeConfigs: [
          {
            name: '80',
            virtualHosts: [
              vhost('site.test:80', ['site.test'], [forward]),
              vhost('lang.test:80', ['lang.test'], [byLanguage, other]),
            ],
          },
        ],
        clusters: [cluster('site', 'STATIC', [{ address: '127.0.0.1', port }])],
      }),
    );
  }

  it('request and response headers set by a route carry their UTF-8 bytes, and none can end its line', async () => {
    const h = await plane();
    try {
      received.length = 0;
      const reply = await exchange(
        h.port(),
        Buffer.from('GET /x HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n'),
      );
      assert.equal(received.length, 1);
      const sent = headLines(received[0]!);
      assert.ok(sent[0]!.equals(Buffer.from('GET /ĉaf/x HTTP/1.1', 'utf8')), sent[0]!.toString('latin1'));
      assert.ok(hasLine(sent, line('x-note', 'café ✓')));
      assert.ok(hasLine(sent, line('x-split', 'v\u010a\u010dInjected: yes')));
      assert.ok(!sent.some((l) => /^injected:/i.test(l.toString('latin1'))), 'no header line of its own');
      const back = headLines(reply);
      assert.match(back[0]!.toString('latin1'), /^HTTP\/1\.1 200 /);
      assert.ok(hasLine(back, line('x-reply', 'naïve ✓')));
    } finally {
      await h.close();
    }
  });

  it("an exact header match compares the config's value with the bytes the client sent", async () => {
    const h = await plane();
    try {
      const ask = (lang: Buffer) =>
        exchange(
          h.port(),
          Buffer.concat([
            Buffer.from('GET / HTTP/1.1\r\nHost: lang.test\r\nConnection: close\r\nX-Lang: '),
            lang,
            Buffer.from('\r\n\r\n'),
          ]),
        );
      assert.match((await ask(Buffer.from('français', 'utf8'))).toString('latin1'), /^HTTP\/1\.1 200 /);
      // The same word in latin1 is other bytes: no match.
      assert.match((await ask(Buffer.from('français', 'latin1'))).toString('latin1'), /^HTTP\/1\.1 404 /);
    } finally {
      await h.close();
    }
  });
});

describe('the access log', () => {
  it('shows what a client sent in UTF-8 as its text: the path, the user agent, the authority', async () => {
    const h = await startPlane(
      sidecarConfig({
        routeConfigs: [
          {
            name: '80',
            virtualHosts: [
              vhost('any', ['*'], [{ name: 'ok', match: anyMatch, action: { kind: 'direct', status: 204 } }]),
            ],
          },
        ],
      }),
    );
    try {
      const request = Buffer.concat([
        Buffer.from('GET /caf', 'latin1'),
        Buffer.from('é?q=ü', 'utf8'),
        Buffer.from(' HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\nUser-Agent: ', 'latin1'),
        Buffer.from('agent/1 (naïve ✓)', 'utf8'),
        Buffer.from('\r\n\r\n', 'latin1'),
      ]);
      await exchange(h.port(), request);
      await h.waitForLogs(1);
      const { record, line } = h.logs[0]!;
      assert.equal(record.path, '/café?q=ü');
      assert.equal(record.user_agent, 'agent/1 (naïve ✓)');
      assert.equal(JSON.parse(line).user_agent, 'agent/1 (naïve ✓)');
    } finally {
      await h.close();
    }
  });
});

describe('ignore-case matching', () => {
  it('folds ASCII letters only, as Envoy does, and compares every other byte as it is', () => {
    const exact = compileStringMatcher({ kind: 'exact', value: 'Straße ã', ignoreCase: true }, 'm');
    assert.equal(exact(utf8Bytes('STRAßE ã')), true);
    // 0xE3 is no UTF-8 'ã' (0xC3 0xA3), though latin1 lower-casing would make 0xC3 into 0xE3.
    assert.equal(exact(`${utf8Bytes('straße')} \xe3\xa3`), false);
    const prefix = compileStringMatcher({ kind: 'prefix', value: '/API/ã', ignoreCase: true }, 'm');
    assert.equal(prefix(utf8Bytes('/api/ã/v1')), true);
    assert.equal(prefix('/api/\xe3\xa3'), false);
  });
});

describe('writing a head', () => {
  it('refuses a value with a character no byte stands for, rather than sending another byte', () => {
    assert.throws(() => serializeHeaders({ 'x-a': 'v\u010aw' }), WireError);
    assert.throws(() => serializeHeaders({ 'x-a': ['ok', '\u2028'] }), WireError);
    assert.equal(serializeHeaders({ 'x-a': utf8Bytes('v\u010aw') }), 'x-a: v\xc4\x8aw\r\n');
    assert.equal(serializeHeaders({ 'x-a': 'caf\xe9' }), 'x-a: caf\xe9\r\n', 'a byte string is written as it is');
  });
});
