import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyResource } from '../model/index.js';
import { buildSnapshot } from '../snapshot/index.js';
import {
  EGRESS_GW,
  gateway,
  http,
  httpServer,
  istioOperator,
  match,
  node,
  port,
  serviceEntry,
  to,
  virtualService,
} from '../snapshot/testing/fixtures.js';
import { explainRequest, type RouteQuery } from '../dataplane/index.js';
import { translate } from './translate.js';

function gw(resources: AnyResource[], req: RouteQuery) {
  const cfg = translate(EGRESS_GW, buildSnapshot({ version: 'v1', resources, instances: [EGRESS_GW] }));
  return { cfg, r: explainRequest(cfg, req) };
}

const bound = (
  hosts: string[],
  dest: string,
  extra: Partial<Parameters<typeof virtualService>[1]> = {},
  ns = 'default',
) =>
  virtualService(
    `vs-${hosts[0]?.replace(/\W/g, '')}`,
    { hosts, gateways: ['istio-system/egress'], http: [http({ route: [to(dest, { port: 80 })] })], ...extra },
    ns,
  );

describe('gateway translation', () => {
  it('resolution NONE behind the gateway has no endpoints: 503 UH', () => {
    const se = serviceEntry('none', { hosts: ['none.example.com'], resolution: 'NONE' });
    const { cfg, r } = gw(
      [se, gateway('egress', [httpServer(80, ['*'])]), bound(['none.example.com'], 'none.example.com')],
      { port: 8080, host: 'none.example.com' },
    );
    assert.equal(r.cluster, 'outbound|80||none.example.com');
    assert.equal(r.status, 503);
    assert.equal(r.responseFlags, 'UH');
    assert.equal(cfg.clusters.find((c) => c.name === 'outbound|80||none.example.com')?.type, 'EDS');
  });

  it('no VirtualService bound: the blackhole vhost answers 404 NR', () => {
    const { cfg, r } = gw([gateway('egress', [httpServer(80, ['aliyun.com'])])], { port: 8080, host: 'aliyun.com' });
    assert.deepEqual(
      cfg.routeConfigs[0]?.virtualHosts.map((v) => v.name),
      ['blackhole:80'],
    );
    assert.equal(r.virtualHost, 'blackhole:80');
    assert.equal(r.responseFlags, 'NR');
  });

  it('server and VirtualService hosts intersect in both directions', () => {
    const se = serviceEntry('wiki', { hosts: ['www.wikipedia.org', 'en.wikipedia.org'] });
    const resources = [
      se,
      gateway('egress', [httpServer(80, ['*.wikipedia.org'])]),
      bound(['www.wikipedia.org'], 'www.wikipedia.org'),
      bound(['*.org'], 'en.wikipedia.org'),
      bound(['example.com'], 'www.wikipedia.org'),
    ];
    const { cfg } = gw(resources, { port: 8080, host: 'x' });
    assert.deepEqual(cfg.routeConfigs[0]?.virtualHosts.map((v) => v.name).sort(), [
      '*.wikipedia.org:80',
      'www.wikipedia.org:80',
    ]);
    assert.equal(
      explainRequest(cfg, { port: 8080, host: 'www.wikipedia.org' }).cluster,
      'outbound|80||www.wikipedia.org',
    );
    assert.equal(
      explainRequest(cfg, { port: 8080, host: 'de.wikipedia.org' }).cluster,
      'outbound|80||en.wikipedia.org',
    );
    assert.equal(explainRequest(cfg, { port: 8080, host: 'example.com' }).responseFlags, 'NR');
  });

  it('server host namespaces scope which VirtualServices bind', () => {
    const se = serviceEntry('a', { hosts: ['a.example.com'] });
    const g = gateway('egress', [httpServer(80, ['team-a/a.example.com'])]);
    const fromA = gw([se, g, bound(['a.example.com'], 'a.example.com', {}, 'team-a')], {
      port: 8080,
      host: 'a.example.com',
    });
    assert.equal(fromA.r.cluster, 'outbound|80||a.example.com');
    const fromB = gw([se, g, bound(['a.example.com'], 'a.example.com', {}, 'team-b')], {
      port: 8080,
      host: 'a.example.com',
    });
    assert.equal(fromB.r.responseFlags, 'NR');
    const notExported = gw([se, g, bound(['a.example.com'], 'a.example.com', { exportTo: ['.'] }, 'team-a')], {
      port: 8080,
      host: 'a.example.com',
    });
    assert.equal(notExported.r.responseFlags, 'NR');
  });

  it('routes of several VirtualServices on one host are concatenated, catch-alls last', () => {
    const se = serviceEntry('a', { hosts: ['a.example.com'], ports: [port(80)] });
    const first = virtualService('first', {
      hosts: ['a.example.com'],
      gateways: ['istio-system/egress'],
      http: [http({ name: 'all', directResponse: { status: 200 } })],
    });
    const second = virtualService('second', {
      hosts: ['a.example.com'],
      gateways: ['istio-system/egress'],
      http: [
        http({
          name: 'api',
          match: [match({ uri: { kind: 'prefix', value: '/api' } })],
          directResponse: { status: 201 },
        }),
      ],
    });
    const { cfg } = gw([se, gateway('egress', [httpServer(80, ['a.example.com'])]), first, second], {
      port: 8080,
      host: 'a.example.com',
    });
    assert.deepEqual(
      cfg.routeConfigs[0]?.virtualHosts[0]?.routes.map((r) => r.name),
      ['api', 'all'],
    );
    assert.equal(explainRequest(cfg, { port: 8080, host: 'a.example.com', path: '/api/x' }).status, 201);
  });

  it('match gateways and port filter the gateway rules; mesh rules stay out', () => {
    const se = serviceEntry('a', { hosts: ['a.example.com'] });
    const vs = virtualService('split', {
      hosts: ['a.example.com'],
      gateways: ['mesh', 'istio-system/egress'],
      http: [
        http({ name: 'mesh', match: [match({ gateways: ['mesh'] })], directResponse: { status: 250 } }),
        http({
          name: 'wrong-port',
          match: [match({ gateways: ['istio-system/egress'], port: 443 })],
          directResponse: { status: 251 },
        }),
        http({
          name: 'gw',
          match: [match({ gateways: ['istio-system/egress'], port: 80 })],
          directResponse: { status: 252 },
        }),
      ],
    });
    const { r } = gw([se, gateway('egress', [httpServer(80, ['a.example.com'])]), vs], {
      port: 8080,
      host: 'a.example.com',
    });
    assert.equal(r.route, 'gw');
    assert.equal(r.status, 252);
  });

  it('binds Service target ports of a declared gateway; TLS servers get a filter-chain listener', () => {
    const op = istioOperator('install', {
      egressGateways: [
        {
          name: 'egress-a',
          namespace: 'egress',
          enabled: true,
          labels: { gw: 'a' },
          ports: [{ name: 'http', port: 80, targetPort: 10080, protocol: 'TCP' }],
          replicas: 1,
        },
      ],
    });
    const g = gateway(
      'gw-a',
      [
        httpServer(80, ['*']),
        {
          port: { number: 443, protocol: 'TLS', name: 'tls' },
          hosts: ['*'],
          tls: { mode: 'PASSTHROUGH', httpsRedirect: false, subjectAltNames: [] },
        },
        httpServer(9000, ['*']),
      ],
      { gw: 'a' },
      'egress',
    );
    const inst = node('router', 'egress-a', 'egress', '127.0.5.5', { gw: 'a' });
    const cfg = translate(inst, buildSnapshot({ version: 'v1', resources: [op, g], instances: [inst] }));
    assert.deepEqual(
      cfg.listeners.map((l) =>
        l.kind === 'gateway-http'
          ? [l.kind, l.name, l.port, l.servicePort, l.routeConfigName]
          : l.kind === 'gateway-network'
            ? [l.kind, l.name, l.port, l.servicePort, l.filterChains.length]
            : [],
      ),
      [
        ['gateway-http', '0.0.0.0_10080', 10080, 80, 'http.80'],
        // No VirtualService routes the passthrough server: no chain, every connection is closed (NR).
        ['gateway-network', '0.0.0.0_443', 443, 443, 0],
        ['gateway-http', '0.0.0.0_9000', 9000, 9000, 'http.9000'],
      ],
    );
  });
});
