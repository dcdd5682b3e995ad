// routeRequest must answer what a live request through the same config gets: one table of requests, run both
// ways. The live side decides; a difference is a bug in routeRequest (or a second implementation creeping in).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProxyConfig, Route } from '../proxy-config/types.js';
import { compileConfig } from './compile-config.js';
import { routeRequest, type RouteQuery } from './route-request.js';
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

const onPath = (value: string): Route['match'] => ({ path: { kind: 'prefix', value }, headers: [], queryParams: [] });

describe('routeRequest agrees with the live data plane', () => {
  let a: Upstream;
  let b: Upstream;
  let h: Harness;
  let config: ProxyConfig;
  // One fixed draw for both sides: 0.7 of the 30/70 split below picks the second cluster.
  const draw = (): number => 0.7;

  before(async () => {
    a = await startUpstream((_req, res) => res.end('a'));
    b = await startUpstream((_req, res) => res.end('b'));
    const routes: Route[] = [
      { name: 'redirect', match: onPath('/old'), action: { kind: 'redirect', status: 301, path: '/new' } },
      {
        name: 'to-https',
        match: onPath('/secure'),
        action: { kind: 'redirect', status: 308, scheme: 'https', host: 'secure.test' },
      },
      { name: 'direct', match: onPath('/direct'), action: { kind: 'direct', status: 204 } },
      {
        name: 'abort',
        match: onPath('/abort'),
        action: { kind: 'cluster', clusters: [{ cluster: 'a', weight: 1 }] },
        fault: { abort: { httpStatus: 418, percentage: 50 } },
      },
      {
        name: 'missing',
        match: onPath('/missing'),
        action: { kind: 'cluster', clusters: [{ cluster: 'nope', weight: 1 }] },
      },
      {
        name: 'empty',
        match: onPath('/empty'),
        action: { kind: 'cluster', clusters: [{ cluster: 'empty', weight: 1 }] },
      },
      {
        name: 'split',
        match: anyMatch,
        action: {
          kind: 'cluster',
          clusters: [
            { cluster: 'a', weight: 30 },
            { cluster: 'b', weight: 70 },
          ],
        },
      },
    ];
    const routeConfig = (name: string) => ({ name, virtualHosts: [vhost(`svc.test:${name}`, ['svc.test'], routes)] });
    config = sidecarConfig({
      routeConfigs: [routeConfig('80'), routeConfig('8000')],
      clusters: [
        cluster('a', 'STATIC', [{ address: '127.0.0.1', port: a.port }]),
        cluster('b', 'STATIC', [{ address: '127.0.0.1', port: b.port }]),
        cluster('empty', 'STATIC', []),
      ],
    });
    h = await startPlane(config, { random: draw });
  });
  after(async () => {
    await h.close();
    await a.close();
    await b.close();
  });

  const cases: { query: RouteQuery; url: string }[] = [
    { query: { port: 80, host: 'svc.test', path: '/old?x=1' }, url: 'http://svc.test/old?x=1' },
    { query: { port: 8000, host: 'svc.test', path: '/old/page?x=1&y' }, url: 'http://svc.test:8000/old/page?x=1&y' },
    { query: { port: 8000, host: 'svc.test', path: '/secure?q' }, url: 'http://svc.test:8000/secure?q' },
    { query: { port: 80, host: 'svc.test', path: '/direct' }, url: 'http://svc.test/direct' },
    { query: { port: 80, host: 'svc.test', path: '/abort' }, url: 'http://svc.test/abort' },
    { query: { port: 80, host: 'svc.test', path: '/missing' }, url: 'http://svc.test/missing' },
    { query: { port: 80, host: 'svc.test', path: '/empty' }, url: 'http://svc.test/empty' },
    { query: { port: 80, host: 'other.test', path: '/' }, url: 'http://other.test/' },
    { query: { port: 80, host: 'svc.test', path: '/split' }, url: 'http://svc.test/split' },
  ];

  for (const { query, url } of cases) {
    it(`${url}`, async () => {
      const live = await send(h.port(), url);
      const decision = routeRequest(
        compileConfig(config, () => 0, draw),
        query,
      );
      if (decision.outcome === 'forward') {
        assert.equal(live.status, 200);
        const port = decision.upstream?.port;
        assert.equal(live.body, port === a.port ? 'a' : port === b.port ? 'b' : '?', JSON.stringify(decision));
        return;
      }
      assert.equal(decision.status, live.status, JSON.stringify(decision));
      assert.equal(decision.location, live.headers.location);
      await h.waitForLogs(1);
      const record = h.logs.find((l) => l.record.path === query.path && l.record.authority?.startsWith(query.host));
      assert.ok(record, `an access-log line for ${url}`);
      assert.equal(decision.responseFlags, record.record.response_flags);
      assert.equal(decision.details, record.record.response_code_details);
    });
  }

  it('redirects keep the query and the port, as the connection manager writes them', () => {
    const at = (q: RouteQuery) => routeRequest(compileConfig(config), q).location;
    assert.equal(at({ port: 8000, host: 'svc.test', path: '/old?x=1' }), 'http://svc.test:8000/new?x=1');
    assert.equal(at({ port: 80, host: 'svc.test', path: '/secure?q' }), 'https://secure.test/secure?q');
  });
});
