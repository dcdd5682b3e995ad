// Istio's request hygiene at the proxy: paths normalized before routing (so a route for /public/ is no way into
// /admin), Envoy's limits and refusals (426, 431, 400, 403), and no relay to the control plane.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { PathNormalization, ProxyConfig, Route } from '../proxy-config/types.js';
import type { DownstreamRequest } from './http1/types.js';
import { compilePathNormalizer } from './path-normalization.js';
import { checkRequest } from './request-hygiene.js';
import { parseRequestTarget } from './request-target.js';
import { splitAuthority } from './request-view.js';
import {
  anyMatch,
  cluster,
  send,
  sendRaw as raw,
  sidecarConfig,
  startPlane,
  startUpstream,
  vhost,
  type Upstream,
} from './testing/fixtures.js';
import { connectThrough } from './testing/tls-fixtures.js';

describe('path normalization', () => {
  const cases: [PathNormalization, string, string | undefined][] = [
    ['BASE', '/public/../admin', '/admin'],
    ['BASE', '/public/%2e%2e/admin', '/admin'],
    ['BASE', '/public/%2E%2e/%61dmin', '/admin'],
    ['BASE', '/public\\..\\admin', '/admin'],
    ['BASE', '/a/./b/../../../c', '/c'],
    ['BASE', '/a/b/..', '/a/'],
    ['BASE', '/a//b', '/a//b'],
    ['BASE', '/a%2Fb', '/a%2Fb'],
    ['BASE', '/a%2fb%3a', '/a%2Fb%3A'],
    ['BASE', '/bad%zz', undefined],
    ['BASE', '/plain/path', '/plain/path'],
    ['MERGE_SLASHES', '/a//b///c', '/a/b/c'],
    ['MERGE_SLASHES', '//public/..//admin', '/admin'],
    ['DECODE_AND_MERGE_SLASHES', '/public%2F..%2Fadmin', '/admin'],
    ['DECODE_AND_MERGE_SLASHES', '/a%5C%5Cb', '/a/b'],
    ['NONE', '/public/../admin', '/public/../admin'],
  ];
  for (const [mode, input, want] of cases) {
    it(`${mode}: ${input} -> ${want ?? '(refused)'}`, () => {
      assert.equal(compilePathNormalizer(mode)(input), want);
    });
  }
});

describe('the authority the checks accept', () => {
  const check = (authority: string | undefined, url = '/'): ReturnType<typeof checkRequest> =>
    checkRequest(
      { httpVersionMajor: 1, httpVersionMinor: 1, rawHeaders: [] } as unknown as DownstreamRequest,
      parseRequestTarget({ url, headers: authority === undefined ? {} : { host: authority } }),
    );

  it('is split into host and port as splitAuthority splits it, from the one match that checked it', () => {
    for (const authority of [
      'Site.TEST',
      'site.test:8080',
      'site.test:0',
      'site.test:65535',
      '127.0.0.1:80',
      '[::1]',
      '[::1]:443',
      '[FE80::1]:8080',
      "a-b_c.~!$&'()*+,;=%41:1",
    ]) {
      assert.deepEqual(check(authority), splitAuthority(authority), authority);
    }
  });

  it('comes from an absolute-form target over the Host header, its scheme in any case', () => {
    assert.deepEqual(check('other.test', 'HTTP://Site.Test:81/x?y'), { host: 'site.test', port: 81 });
    assert.deepEqual(check(undefined, 'http://user@site.test?q'), { host: 'site.test', port: undefined });
    assert.equal(check(undefined), undefined);
    assert.throws(() => check(undefined, 'hTTps://site.test/'), /only http/);
  });

  it('refuses what is not a host and port', () => {
    for (const authority of ['site.test:65536', 'site.test:', 'site.test:80:81', 'a@site.test', '[::1', 'si te']) {
      assert.throws(() => check(authority), /is not a host\[:port\]/, authority);
    }
  });
});

describe('request hygiene at the proxy', () => {
  let upstream: Upstream;
  before(async () => {
    upstream = await startUpstream((req, res) => res.end(`upstream saw ${req.url}`));
  });
  after(() => upstream.close());

  /** A route that allows /public/ and answers 403 for everything else, as the probe had it. */
  function publicOnly(mode?: PathNormalization): ProxyConfig {
    const allowPublic: Route = {
      name: 'public',
      match: { path: { kind: 'prefix', value: '/public/' }, headers: [], queryParams: [] },
      action: { kind: 'cluster', clusters: [{ cluster: 'site', weight: 100 }] },
    };
    const deny: Route = { name: 'deny', match: anyMatch, action: { kind: 'direct', status: 403, body: 'denied' } };
    return {
      ...sidecarConfig({
        routeConfigs: [{ name: '80', virtualHosts: [vhost('site.test:80', ['site.test'], [allowPublic, deny])] }],
        clusters: [cluster('site', 'STATIC', [{ address: '127.0.0.1', port: upstream.port }])],
      }),
      ...(mode ? { pathNormalization: mode } : {}),
    };
  }

  it('a route for /public/ is no way into /echo: dot segments and escaped dots are resolved first', async () => {
    const h = await startPlane(publicOnly());
    try {
      for (const p of ['/public/../echo', '/public/%2e%2e/echo', '/public/%2E%2E/%65cho']) {
        const r = await send(h.port(), `http://site.test${p}`);
        assert.equal(r.status, 403, p);
      }
      const ok = await send(h.port(), 'http://site.test/public/./x/../page?q=1');
      assert.equal(ok.status, 200);
      assert.equal(ok.body, 'upstream saw /public/page?q=1', 'the normalized path goes upstream');
      await h.waitForLogs(4);
      assert.equal(h.logs[3]!.record.path, '/public/page?q=1');
    } finally {
      await h.close();
    }
  });

  it('pathNormalization NONE leaves the path as sent (Istio lets the mesh opt out)', async () => {
    const h = await startPlane(publicOnly('NONE'));
    try {
      const r = await send(h.port(), 'http://site.test/public/../echo');
      assert.equal(r.status, 200);
      assert.equal(r.body, 'upstream saw /public/../echo');
    } finally {
      await h.close();
    }
  });

  it('refuses what Envoy refuses: HTTP/1.0 (426), 101 headers (431), non-http targets, bad authorities and two Host lines (400)', async () => {
    const h = await startPlane(publicOnly());
    const reached = upstream.seen.length;
    try {
      const status = (text: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      assert.equal(status(await raw(h.port(), 'GET http://site.test/public/x HTTP/1.0\r\n\r\n')), 426);
      assert.equal(status(await raw(h.port(), 'GET /public/x HTTP/1.0\r\nHost: site.test\r\n\r\n')), 426);
      const many = Array.from({ length: 101 }, (_, i) => `X-H${i}: v\r\n`).join('');
      assert.equal(status(await raw(h.port(), `GET /public/x HTTP/1.1\r\nHost: site.test\r\n${many}\r\n`)), 431);
      for (const target of ['ftp://site.test/public/x', 'file:///etc/passwd', 'https://site.test/public/x']) {
        assert.equal(status(await raw(h.port(), `GET ${target} HTTP/1.1\r\nHost: site.test\r\n\r\n`)), 400, target);
      }
      for (const host of ['site.test:99999', 'a@site.test', 'site.test:80:81', 'site.test:']) {
        assert.equal(status(await raw(h.port(), `GET /public/x HTTP/1.1\r\nHost: ${host}\r\n\r\n`)), 400, host);
      }
      assert.equal(status(await raw(h.port(), 'GET /public/%zz HTTP/1.1\r\nHost: site.test\r\n\r\n')), 400);
      // RFC 9112 §3.2: one Host line only; a route chosen by one and a site reached by the other would split.
      const twoHosts = 'GET /public/x HTTP/1.1\r\nHost: site.test\r\nHost: other.test\r\n\r\n';
      assert.equal(status(await raw(h.port(), twoHosts)), 400);
      assert.equal(upstream.seen.length, reached, 'nothing reached upstream');
      assert.deepEqual(h.warnings, [], 'no unexpected error (no 500 with a stack trace)');
    } finally {
      await h.close();
    }
  });

  it('a kept-alive connection: no Connection or Keep-Alive header in the answers, as Envoy; a refusal says close', async () => {
    const h = await startPlane(publicOnly());
    try {
      // Two requests pipelined on one connection, then a third the proxy refuses (HTTP/1.0 is answered 426).
      const answer = await raw(
        h.port(),
        'GET /public/a HTTP/1.1\r\nHost: site.test\r\n\r\n' +
          'GET /other HTTP/1.1\r\nHost: site.test\r\n\r\n' +
          'GET /public/c HTTP/1.0\r\nHost: site.test\r\n\r\n',
      );
      const heads = [...answer.matchAll(/HTTP\/1\.1 \d{3}[\s\S]*?\r\n\r\n/g)].map((m) => m[0]);
      assert.deepEqual(
        heads.map((head) => head.split('\r\n')[0]),
        ['HTTP/1.1 200 OK', 'HTTP/1.1 403 Forbidden', 'HTTP/1.1 426 Upgrade Required'],
      );
      for (const head of heads.slice(0, 2)) {
        assert.doesNotMatch(head, /^connection:/im, head);
        assert.doesNotMatch(head, /^keep-alive:/im, head);
      }
      assert.match(heads[2]!, /^connection: close$/im);
    } finally {
      await h.close();
    }
  });

  it('a request whose headers do not arrive in time gets 408, not 400', async () => {
    const h = await startPlane(publicOnly(), { requestHeadersTimeoutMs: 150 });
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(h.port(), '127.0.0.1', () => socket.write('GET /public/x HTTP/1.1\r\nHost: site.te'));
        let data = '';
        socket.on('data', (c) => (data += c.toString()));
        socket.on('close', () => resolve(data));
        socket.on('error', reject);
      });
      assert.match(answer, /^HTTP\/1\.1 408 /);
      await h.waitForLogs(1);
      assert.equal(h.logs[0]!.record.response_code, 408);
    } finally {
      await h.close();
    }
  });

  it('upgrades: only WebSocket is tunnelled; h2c is served as HTTP/1.1; any other is refused (403)', async () => {
    const h = await startPlane(publicOnly());
    try {
      const status = (text: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const h2c = await raw(
        h.port(),
        'GET /public/h2c HTTP/1.1\r\nHost: site.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n',
      );
      assert.equal(status(h2c), 200);
      assert.match(h2c, /upstream saw \/public\/h2c$/);
      const other = await raw(
        h.port(),
        'GET /public/x HTTP/1.1\r\nHost: site.test\r\nConnection: Upgrade\r\nUpgrade: tcp-tunnel\r\n\r\n',
      );
      assert.equal(status(other), 403);
      assert.equal(upstream.seen.at(-1)?.headers.upgrade, undefined, 'the h2c upgrade is not passed on');
    } finally {
      await h.close();
    }
  });

  it('never relays to the control plane, by HTTP or by CONNECT, whatever the outbound policy', async () => {
    // The "controller" here is the upstream: a proxy configured with it as its control plane must refuse it.
    const h = await startPlane(sidecarConfig(), { controlPlane: [{ host: 'localhost', port: upstream.port }] });
    try {
      const before = upstream.seen.length;
      const r = await send(h.port(), `http://127.0.0.1:${upstream.port}/v1/apply`, { method: 'POST', body: '{}' });
      assert.equal(r.status, 403);
      const tunnel = await connectThrough(h.port(), `127.0.0.1:${upstream.port}`);
      assert.equal(tunnel.status, 403);
      const other = await connectThrough(h.port(), `127.9.9.9:${upstream.port}`);
      assert.equal(other.status, 403, 'a loopback name stands for the whole loopback range');
      assert.equal(upstream.seen.length, before, 'nothing reached the control plane');
      await h.waitForLogs(3);
      assert.equal(h.logs[0]!.record.response_code_details, 'protected_destination');
    } finally {
      await h.close();
    }
  });
});
