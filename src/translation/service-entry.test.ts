import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyResource } from '../model/index.js';
import { buildSnapshot } from '../snapshot/index.js';
import {
  destinationRule,
  http,
  port,
  registryOnly,
  serviceEntry,
  sidecarResource,
  SLEEP,
  to,
  virtualService,
} from '../snapshot/testing/fixtures.js';
import { explainRequest, type RouteQuery } from '../dataplane/index.js';
import { translate } from './translate.js';

function config(resources: AnyResource[]) {
  return translate(SLEEP, buildSnapshot({ version: 'v1', resources, instances: [SLEEP] }));
}
function run(resources: AnyResource[], req: RouteQuery) {
  return explainRequest(config(resources), req);
}

describe('ServiceEntry details', () => {
  it('addresses: a request with Host = the VIP routes to the service; ranges are not domains', () => {
    const se = serviceEntry('vip', {
      hosts: ['vip.example.com'],
      addresses: ['240.0.0.10', '240.1.0.0/16', '240.0.0.11/32'],
      resolution: 'STATIC',
      endpoints: [{ address: '127.0.9.9', ports: {}, labels: {} }],
    });
    const r = run([registryOnly(), se], { port: 80, host: '240.0.0.10' });
    assert.equal(r.cluster, 'outbound|80||vip.example.com');
    assert.deepEqual(r.upstream, { address: '127.0.9.9', port: 80 });
    assert.equal(run([registryOnly(), se], { port: 80, host: '240.0.0.11' }).cluster, 'outbound|80||vip.example.com');
    const vh = config([se])
      .routeConfigs.find((rc) => rc.name === '80')
      ?.virtualHosts.find((v) => v.name === 'vip.example.com:80');
    assert.deepEqual(vh?.domains, ['vip.example.com', '240.0.0.10', '240.0.0.11']);
  });

  it('endpoint port names beat targetPort', () => {
    const se = serviceEntry('p', {
      hosts: ['p.example.com'],
      ports: [port(80, 'HTTP', 'http', 8000)],
      resolution: 'STATIC',
      endpoints: [
        { address: '127.0.9.1', ports: { http: 9001 }, labels: {} },
        { address: '127.0.9.2', ports: {}, labels: {} },
      ],
    });
    const c = config([se]).clusters.find((x) => x.name === 'outbound|80||p.example.com');
    assert.deepEqual(c?.endpoints, [
      { address: '127.0.9.1', port: 9001 },
      { address: '127.0.9.2', port: 8000 },
    ]);
  });

  it('DNS_ROUND_ROBIN is LOGICAL_DNS; DNS is STRICT_DNS', () => {
    const rr = serviceEntry('rr', { hosts: ['rr.example.com'], resolution: 'DNS_ROUND_ROBIN' });
    const dns = serviceEntry('dns', { hosts: ['dns.example.com'], resolution: 'DNS' });
    const cs = config([rr, dns]).clusters;
    assert.equal(cs.find((c) => c.name === 'outbound|80||rr.example.com')?.type, 'LOGICAL_DNS');
    assert.deepEqual(cs.find((c) => c.name === 'outbound|80||rr.example.com')?.endpoints, [
      { address: 'rr.example.com', port: 80 },
    ]);
    assert.equal(cs.find((c) => c.name === 'outbound|80||dns.example.com')?.type, 'STRICT_DNS');
  });

  it('a wildcard host with resolution NONE: the sidecar routes en.wikipedia.org via the wildcard vhost to ORIGINAL_DST', () => {
    const se = serviceEntry('wiki', { hosts: ['*.wikipedia.org'], resolution: 'NONE' });
    const r = run([registryOnly(), se], { port: 80, host: 'en.wikipedia.org' });
    assert.equal(r.virtualHost, '*.wikipedia.org:80');
    assert.equal(r.cluster, 'outbound|80||*.wikipedia.org');
    assert.deepEqual(r.upstream, { address: 'en.wikipedia.org', port: 80 });
    assert.equal(config([se]).clusters.find((c) => c.name === 'outbound|80||*.wikipedia.org')?.type, 'ORIGINAL_DST');
    // "*.wikipedia.org" does not cover "wikipedia.org".
    assert.equal(run([registryOnly(), se], { port: 80, host: 'wikipedia.org' }).route, 'block_all');
  });

  it('location MESH_INTERNAL routes as MESH_EXTERNAL does', () => {
    const ext = serviceEntry('x', {
      hosts: ['x.example.com'],
      resolution: 'STATIC',
      endpoints: [{ address: '127.0.9.3', ports: {}, labels: {} }],
    });
    const int = serviceEntry('x', { ...ext.spec, location: 'MESH_INTERNAL' });
    const req = { port: 80, host: 'x.example.com' };
    assert.deepEqual(run([registryOnly(), int], req), run([registryOnly(), ext], req));
  });
});

describe('Sidecar egress listeners', () => {
  const a = serviceEntry('a', {
    hosts: ['a.example.com'],
    ports: [port(80, 'HTTP', 'http'), port(8080, 'HTTP', 'http-alt')],
  });
  const b = serviceEntry('b', {
    hosts: ['b.example.com'],
    ports: [port(80, 'HTTP', 'http'), port(8080, 'HTTP', 'http-alt')],
  });

  it('a port-specific listener imports its hosts on that port only; the port-less one serves the other ports', () => {
    const sc = sidecarResource('scope', {
      egress: [
        { port: { number: 8080, protocol: 'HTTP', name: 'http-alt' }, bind: '127.0.0.1', hosts: ['./a.example.com'] },
        { hosts: ['./b.example.com'] },
      ],
    });
    const rs = [registryOnly(), a, b, sc];
    assert.equal(run(rs, { port: 8080, host: 'a.example.com' }).cluster, 'outbound|8080||a.example.com');
    assert.equal(run(rs, { port: 8080, host: 'b.example.com' }).route, 'block_all');
    assert.equal(run(rs, { port: 80, host: 'b.example.com' }).cluster, 'outbound|80||b.example.com');
    assert.equal(run(rs, { port: 80, host: 'a.example.com' }).route, 'block_all');
    // Clusters cover every imported service.
    const names = config(rs).clusters.map((c) => c.name);
    assert.ok(names.includes('outbound|80||a.example.com') && names.includes('outbound|8080||b.example.com'));
  });

  it('with only port-specific listeners, other ports take the default route', () => {
    const sc = sidecarResource('scope', { egress: [{ port: { number: 8080 }, hosts: ['*/*'] }] });
    assert.equal(run([registryOnly(), a, sc], { port: 80, host: 'a.example.com' }).route, 'block_all');
    assert.equal(
      run([registryOnly(), a, sc], { port: 8080, host: 'a.example.com' }).cluster,
      'outbound|8080||a.example.com',
    );
  });
});

describe('traffic policy and mirroring in translation', () => {
  const svc = serviceEntry('h', {
    hosts: ['h.example.com'],
    resolution: 'STATIC',
    endpoints: [{ address: '127.0.9.1', ports: {}, labels: {} }],
  });

  it('consistentHash becomes a hash policy with a random fallback', () => {
    const cases = [
      [{ httpHeaderName: 'X-User' }, { kind: 'header', name: 'x-user' }],
      [{ useSourceIp: true }, { kind: 'sourceIp' }],
      [{ httpQueryParameterName: 'u' }, { kind: 'queryParameter', name: 'u' }],
      [{ httpCookie: { name: 'sid', ttlMs: 1000 } }, { kind: 'cookie', name: 'sid', ttlMs: 1000 }],
    ] as const;
    for (const [lb, want] of cases) {
      const dr = destinationRule('d', {
        host: 'h.example.com',
        trafficPolicy: { loadBalancer: { kind: 'consistentHash', ...lb }, portLevelSettings: [] },
      });
      const c = config([svc, dr]).clusters.find((x) => x.name === 'outbound|80||h.example.com');
      assert.deepEqual(c?.hashPolicy, want);
      assert.equal(c?.lbPolicy, 'RANDOM');
    }
    assert.equal(config([svc]).clusters.find((x) => x.name === 'outbound|80||h.example.com')?.hashPolicy, undefined);
  });

  it('mirror and mirrorPercentage set Route.mirror; the default percentage is 100', () => {
    const shadow = serviceEntry('s', { hosts: ['shadow.example.com'] });
    const vs = virtualService('m', {
      hosts: ['h.example.com'],
      http: [http({ route: [to('h.example.com')], mirror: { host: 'shadow.example.com' }, mirrorPercentage: 25 })],
    });
    const route = config([svc, shadow, vs])
      .routeConfigs.find((r) => r.name === '80')
      ?.virtualHosts.find((v) => v.name === 'h.example.com:80')?.routes[0];
    assert.deepEqual(route?.mirror, { cluster: 'outbound|80||shadow.example.com', percentage: 25 });
    const all = virtualService('m', {
      ...vs.spec,
      http: [http({ route: [to('h.example.com')], mirror: { host: 'shadow.example.com' } })],
    });
    const r2 = config([svc, shadow, all])
      .routeConfigs.find((r) => r.name === '80')
      ?.virtualHosts.find((v) => v.name === 'h.example.com:80')?.routes[0];
    assert.equal(r2?.mirror?.percentage, 100);
  });
});
