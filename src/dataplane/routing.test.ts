import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Route } from '../proxy-config/types.js';
import {
  anyMatch,
  cluster,
  send,
  sidecarConfig,
  startPlane,
  startUpstream,
  vhost,
  type Harness,
  type Upstream,
} from './testing/fixtures.js';

const toCluster = (name: string, c: string, match = anyMatch, extra: Partial<Route> = {}): Route => ({
  name,
  match,
  action: { kind: 'cluster', clusters: [{ cluster: c, weight: 1 }] },
  ...extra,
});
const direct = (name: string, body: string, match = anyMatch): Route => ({
  name,
  match,
  action: { kind: 'direct', status: 200, body },
});

describe('routing', () => {
  let a: Upstream;
  let b: Upstream;
  let h: Harness;
  before(async () => {
    a = await startUpstream((req, res) => res.end(`a ${req.url}`));
    b = await startUpstream((req, res) => res.end(`b ${req.url}`));
    const routes: Route[] = [
      direct('method', 'deleted', {
        headers: [{ name: ':method', match: { kind: 'exact', value: 'DELETE' }, invert: false }],
        queryParams: [],
      }),
      direct('header', 'beta user', {
        headers: [{ name: 'x-user', match: { kind: 'prefix', value: 'beta-' }, invert: false }],
        queryParams: [],
      }),
      direct('no-header', 'anonymous', {
        path: { kind: 'exact', value: '/whoami' },
        headers: [{ name: 'x-user', match: { kind: 'present' }, invert: true }],
        queryParams: [],
      }),
      direct('query', 'debug on', {
        headers: [],
        queryParams: [{ name: 'debug', match: { kind: 'exact', value: '1' } }],
      }),
      direct('regex', 'numbered', { path: { kind: 'regex', value: '/items/[0-9]+' }, headers: [], queryParams: [] }),
      direct('ci', 'case-insensitive', {
        path: { kind: 'prefix', value: '/CI', ignoreCase: true },
        headers: [],
        queryParams: [],
      }),
      {
        name: 'redirect',
        match: { path: { kind: 'prefix', value: '/old' }, headers: [], queryParams: [] },
        action: { kind: 'redirect', status: 301, scheme: 'https', path: '/new' },
      },
      toCluster(
        'rewrite',
        'b',
        { path: { kind: 'prefix', value: '/api/' }, headers: [], queryParams: [] },
        {
          action: {
            kind: 'cluster',
            clusters: [{ cluster: 'b', weight: 1 }],
            prefixRewrite: '/v2/',
            hostRewrite: 'backend.internal',
          },
          requestHeaders: { set: [['x-route', 'rewrite']], add: [], remove: ['x-secret'] },
          responseHeaders: { set: [['x-served-by', 'tollgate']], add: [['x-extra', 'one']], remove: ['x-powered-by'] },
        },
      ),
      {
        name: 'fault',
        match: { path: { kind: 'exact', value: '/fault' }, headers: [], queryParams: [] },
        action: { kind: 'cluster', clusters: [{ cluster: 'a', weight: 1 }] },
        fault: { abort: { httpStatus: 418, percentage: 100 } },
      },
      {
        name: 'delay',
        match: { path: { kind: 'exact', value: '/slow' }, headers: [], queryParams: [] },
        action: { kind: 'cluster', clusters: [{ cluster: 'a', weight: 1 }] },
        fault: { delay: { fixedDelayMs: 60, percentage: 100 } },
      },
      toCluster('catch-all', 'a'),
      direct('unreachable', 'never'),
    ];
    h = await startPlane(
      sidecarConfig({
        routeConfigs: [
          {
            name: '80',
            virtualHosts: [
              vhost('svc.test:80', ['svc.test'], routes),
              vhost('wild', ['*.wild.test'], [direct('wild', 'wildcard')]),
              vhost('wilder', ['*.test'], [direct('wilder', 'shorter wildcard')]),
              vhost(
                'only-post',
                ['post.test'],
                [
                  direct('post', 'posted', {
                    headers: [{ name: ':method', match: { kind: 'exact', value: 'POST' }, invert: false }],
                    queryParams: [],
                  }),
                ],
              ),
            ],
          },
        ],
        clusters: [
          cluster('a', 'STATIC', [{ address: '127.0.0.1', port: a.port }]),
          cluster('b', 'STATIC', [{ address: '127.0.0.1', port: b.port }]),
        ],
      }),
    );
  });
  after(async () => {
    await h.close();
    await a.close();
    await b.close();
  });

  const get = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
    send(h.port(), `http://svc.test${path}`, { headers, method });

  it('tries routes in order and takes the first match', async () => {
    assert.equal((await get('/x', {}, 'DELETE')).body, 'deleted');
    assert.equal((await get('/x', { 'x-user': 'beta-1' })).body, 'beta user');
    assert.equal((await get('/whoami')).body, 'anonymous');
    assert.equal((await get('/whoami', { 'x-user': 'alice' })).body, 'a /whoami');
    assert.equal((await get('/p?x=2&debug=1')).body, 'debug on');
    assert.equal((await get('/p?debug=10')).body, 'a /p?debug=10');
    assert.equal((await get('/items/42')).body, 'numbered');
    assert.equal((await get('/items/42/more')).body, 'a /items/42/more', 'regexes match the whole path');
    assert.equal((await get('/ci/x')).body, 'case-insensitive');
    assert.equal((await get('/anything')).body, 'a /anything');
  });

  it('matches wildcard domains longest suffix first, ignoring the port', async () => {
    assert.equal((await send(h.port(), 'http://x.wild.test/')).body, 'wildcard');
    assert.equal((await send(h.port(), 'http://other.test/')).body, 'shorter wildcard');
  });

  it('404 NR when the virtual host has no matching route', async () => {
    const reply = await send(h.port(), 'http://post.test/');
    assert.equal(reply.status, 404);
    assert.equal(reply.body, '');
  });

  it('redirects with the request query kept', async () => {
    const reply = await get('/old/page?q=1');
    assert.equal(reply.status, 301);
    assert.equal(reply.headers.location, 'https://svc.test/new?q=1');
    assert.equal(reply.body, '');
  });

  it('rewrites prefix and host, and mutates request and response headers', async () => {
    const reply = await get('/api/users?x=1', { 'x-secret': 's' });
    assert.equal(reply.body, 'b /v2/users?x=1');
    const seen = b.seen.at(-1)!;
    assert.equal(seen.headers.host, 'backend.internal');
    assert.equal(seen.headers['x-route'], 'rewrite');
    assert.equal(seen.headers['x-secret'], undefined);
    assert.equal(seen.headers['x-envoy-original-path'], '/api/users?x=1');
    assert.equal(reply.headers['x-served-by'], 'tollgate');
    assert.equal(reply.headers['x-extra'], 'one');
  });

  it('injects aborts (FI)', async () => {
    const before = h.logs.length;
    const reply = await get('/fault');
    assert.equal(reply.status, 418);
    assert.equal(reply.body, 'fault filter abort');
    await h.waitForLogs(before + 1);
    const rec = h.logs.find((l) => l.record.path === '/fault')!.record;
    assert.equal(rec.response_flags, 'FI');
    assert.equal(rec.response_code_details, 'fault_filter_abort');
  });

  it('injects delays (DI) and still forwards', async () => {
    const before = h.logs.length;
    const reply = await get('/slow');
    assert.equal(reply.body, 'a /slow');
    await h.waitForLogs(before + 1);
    const rec = h.logs.find((l) => l.record.path === '/slow')!.record;
    assert.equal(rec.response_flags, 'DI');
    assert.equal(rec.response_code_details, 'via_upstream');
  });

  it('streams request bodies upstream and counts bytes both ways', async () => {
    const before = h.logs.length;
    const reply = await send(h.port(), 'http://svc.test/upload', { method: 'POST', body: 'x'.repeat(5000) });
    assert.equal(reply.body, 'a /upload');
    assert.equal(a.seen.at(-1)!.body.length, 5000);
    await h.waitForLogs(before + 1);
    const rec = h.logs.find((l) => l.record.path === '/upload')!.record;
    assert.equal(rec.bytes_received, 5000);
    assert.equal(rec.bytes_sent, 'a /upload'.length);
  });
});

describe('weighted clusters', () => {
  it('splits traffic by weight and applies per-cluster header mutations', async () => {
    const a = await startUpstream((_req, res) => res.end('a'));
    const b = await startUpstream((_req, res) => res.end('b'));
    const route: Route = {
      name: 'split',
      match: anyMatch,
      action: {
        kind: 'cluster',
        clusters: [
          { cluster: 'a', weight: 80, requestHeaders: { set: [['x-variant', 'a']], add: [], remove: [] } },
          { cluster: 'b', weight: 20, responseHeaders: { set: [['x-variant', 'b']], add: [], remove: [] } },
        ],
      },
    };
    const h = await startPlane(
      sidecarConfig({
        routeConfigs: [{ name: '80', virtualHosts: [vhost('s', ['svc.test'], [route])] }],
        clusters: [
          cluster('a', 'STATIC', [{ address: '127.0.0.1', port: a.port }]),
          cluster('b', 'STATIC', [{ address: '127.0.0.1', port: b.port }]),
        ],
      }),
    );
    try {
      const counts = { a: 0, b: 0 };
      for (let i = 0; i < 200; i++) {
        const reply = await send(h.port(), 'http://svc.test/');
        counts[reply.body as 'a' | 'b']++;
        if (reply.body === 'b') assert.equal(reply.headers['x-variant'], 'b');
      }
      assert.ok(counts.a > 130 && counts.a < 190, `a got ${counts.a}/200`);
      assert.ok(counts.b > 10, `b got ${counts.b}/200`);
      assert.ok(a.seen.every((s) => s.headers['x-variant'] === 'a'));
    } finally {
      await h.close();
      await a.close();
      await b.close();
    }
  });
});
