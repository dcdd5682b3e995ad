import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyResource, GatewayServer } from '../../model/index.js';
import { buildSnapshot } from '../build.js';
import {
  clientTls,
  destinationRule,
  gateway,
  http,
  httpServer,
  match,
  port,
  serviceEntry,
  tcpRoute,
  l4Match,
  tlsMatch,
  tlsRoute,
  tlsServer,
  to,
  virtualService,
} from '../testing/fixtures.js';
import { analyze } from './index.js';

const run = (resources: AnyResource[]) => analyze(buildSnapshot({ version: 'v1', resources, instances: [] }));
const only = (code: string, resources: AnyResource[]) => run(resources).filter((d) => d.code === code);
const GW_HOST = 'istio-egressgateway.istio-system.svc.cluster.local';
const aliyun = serviceEntry('aliyun', { hosts: ['aliyun.com'], ports: [port(80, 'HTTP', 'http')] });
const cnn = serviceEntry('cnn', {
  hosts: ['edition.cnn.com'],
  ports: [port(80, 'HTTP', 'http'), port(443, 'TLS', 'tls')],
});

/** A VirtualService routing `host` from the mesh to the gateway and from the gateway to the host. */
function through(
  name: string,
  host: string,
  gw: string,
  gwPort = 80,
  extra: Partial<Parameters<typeof virtualService>[1]> = {},
) {
  return virtualService(name, {
    hosts: [host],
    gateways: [gw, 'mesh'],
    http: [
      http({ match: [match({ gateways: ['mesh'], port: 80 })], route: [to(GW_HOST, { port: 80 })] }),
      http({ match: [match({ gateways: [gw], port: gwPort })], route: [to(host, { port: 80 })] }),
    ],
    ...extra,
  });
}

describe('IST0145 ConflictingGateways', () => {
  it('two Gateways on the same workloads, port and host: each is reported at the host', () => {
    const a = gateway('a', [httpServer(80, ['aliyun.com'])]);
    const b = gateway(
      'b',
      [httpServer(80, ['www.aliyun.com', 'aliyun.com'])],
      { istio: 'egressgateway', app: 'istio-egressgateway' },
      'default',
    );
    const ds = only('IST0145', [aliyun, a, b]);
    assert.deepEqual(
      ds.map((d) => [d.resource?.name, d.level, d.field]),
      [
        ['a', 'error', 'spec.servers[0].hosts[0]'],
        ['b', 'error', 'spec.servers[0].hosts[1]'],
      ],
    );
    assert.match(ds[0]?.message ?? '', /default\/b/);
    assert.match(ds[0]?.message ?? '', /port 80/);
  });

  it('near misses: another port, another host, a wildcard that only covers the host, workloads that differ', () => {
    const a = gateway('a', [httpServer(80, ['aliyun.com'])]);
    const otherPort = gateway('b', [httpServer(443, ['aliyun.com'])]);
    const otherHost = gateway('c', [httpServer(80, ['www.aliyun.com'])]);
    const wildcard = gateway('d', [httpServer(80, ['*.com'])]);
    const otherWorkload = gateway('e', [httpServer(80, ['aliyun.com'])], { istio: 'ingressgateway' });
    assert.deepEqual(only('IST0145', [aliyun, a, otherPort, otherHost, wildcard, otherWorkload]), []);
  });
});

describe('TG1002 GatewayDestinationWithoutEndpoints', () => {
  it('a gateway rule routing to a resolution NONE ServiceEntry', () => {
    const none = serviceEntry('aliyun', {
      hosts: ['aliyun.com'],
      ports: [port(80, 'HTTP', 'http')],
      resolution: 'NONE',
    });
    const ds = run([
      none,
      gateway('egress-gw', [httpServer(80, ['aliyun.com'])]),
      through('v', 'aliyun.com', 'istio-system/egress-gw'),
    ]);
    assert.deepEqual(
      ds.map((d) => [d.code, d.level, d.field]),
      [['TG1002', 'error', 'spec.http[1].route[0].destination.host']],
    );
    assert.match(ds[0]?.message ?? '', /NONE/);
    assert.match(ds[0]?.hint ?? '', /DNS/);
  });

  it('a gateway rule routing to a DNS wildcard ServiceEntry without endpoints', () => {
    const wild = serviceEntry('wiki', {
      hosts: ['*.wikipedia.org'],
      ports: [port(80, 'HTTP', 'http')],
      resolution: 'DNS',
    });
    const vs = virtualService('v', {
      hosts: ['*.wikipedia.org'],
      gateways: ['istio-system/egress-gw'],
      http: [http({ route: [to('*.wikipedia.org')] })],
    });
    const ds = only('TG1002', [wild, gateway('egress-gw', [httpServer(80, ['*.wikipedia.org'])]), vs]);
    assert.deepEqual(
      ds.map((d) => d.field),
      ['spec.http[0].route[0].destination.host'],
    );
  });

  it('near misses: the same NONE host routed by sidecars only, and a DNS host at the gateway', () => {
    const none = serviceEntry('aliyun', {
      hosts: ['aliyun.com'],
      ports: [port(80, 'HTTP', 'http')],
      resolution: 'NONE',
    });
    const meshOnly = virtualService('m', { hosts: ['aliyun.com'], http: [http({ route: [to('aliyun.com')] })] });
    assert.deepEqual(only('TG1002', [none, meshOnly]), []);
    assert.deepEqual(
      run([
        aliyun,
        gateway('egress-gw', [httpServer(80, ['aliyun.com'])]),
        through('v', 'aliyun.com', 'istio-system/egress-gw'),
      ]),
      [],
    );
  });
});

describe('TG1005 GatewayServerWithoutVirtualService', () => {
  it('a server host no bound VirtualService covers', () => {
    const gw = gateway('egress-gw', [httpServer(80, ['aliyun.com', 'example.com'])]);
    const ds = run([aliyun, gw, through('v', 'aliyun.com', 'istio-system/egress-gw')]);
    assert.deepEqual(
      ds.map((d) => [d.code, d.level, d.field]),
      [['TG1005', 'warning', 'spec.servers[0].hosts[1]']],
    );
    assert.match(ds[0]?.message ?? '', /example\.com.*port 80/);
  });

  it('a VirtualService with the host but not exported to the Gateway namespace does not bind', () => {
    const gw = gateway('egress-gw', [httpServer(80, ['aliyun.com'])]);
    const vs = through('v', 'aliyun.com', 'istio-system/egress-gw', 80, { exportTo: ['.'] });
    assert.deepEqual(
      only('TG1005', [aliyun, gw, vs]).map((d) => d.field),
      ['spec.servers[0].hosts[0]'],
    );
  });

  it('near misses: a wildcard server host taken by a concrete VS host, a namespace-scoped host, auto passthrough', () => {
    const gw = gateway('egress-gw', [
      httpServer(80, ['*.com', 'default/aliyun.com']),
      tlsServer(443, ['*.example.com'], 'AUTO_PASSTHROUGH'),
    ]);
    assert.deepEqual(only('TG1005', [aliyun, gw, through('v', 'aliyun.com', 'istio-system/egress-gw')]), []);
  });
});

describe('TG1006 IstioMutualSniMismatch', () => {
  const mtlsServer: GatewayServer = tlsServer(443, ['edition.cnn.com'], 'ISTIO_MUTUAL', 'HTTPS');
  const gwDr = (tls: ReturnType<typeof clientTls>) =>
    destinationRule('egressgateway-for-cnn', {
      host: GW_HOST,
      subsets: [{ name: 'cnn', labels: {}, trafficPolicy: { portLevelSettings: [{ port: 443, tls }] } }],
    });

  it('port-level ISTIO_MUTUAL without sni', () => {
    const ds = only('TG1006', [cnn, gateway('istio-egressgateway', [mtlsServer]), gwDr(clientTls('ISTIO_MUTUAL'))]);
    assert.deepEqual(
      ds.map((d) => [d.level, d.resource?.kind, d.field]),
      [['warning', 'DestinationRule', 'spec.subsets[0].trafficPolicy.portLevelSettings[0].tls.mode']],
    );
    assert.match(ds[0]?.message ?? '', /outbound_\.443_\.cnn_\.istio-egressgateway/);
  });

  it('an sni that none of the server hosts covers, at the top level', () => {
    const dr = destinationRule('d', {
      host: GW_HOST,
      trafficPolicy: { tls: clientTls('ISTIO_MUTUAL', { sni: 'cnn.com' }), portLevelSettings: [] },
    });
    const ds = only('TG1006', [cnn, gateway('istio-egressgateway', [mtlsServer]), dr]);
    assert.deepEqual(
      ds.map((d) => d.field),
      ['spec.trafficPolicy.tls.sni'],
    );
  });

  it('near misses: the matching sni, a "*" server, a SIMPLE server, a DR for another host', () => {
    const good = gwDr(clientTls('ISTIO_MUTUAL', { sni: 'edition.cnn.com' }));
    assert.deepEqual(only('TG1006', [cnn, gateway('istio-egressgateway', [mtlsServer]), good]), []);
    const star = tlsServer(443, ['*'], 'ISTIO_MUTUAL', 'HTTPS');
    assert.deepEqual(
      only('TG1006', [cnn, gateway('istio-egressgateway', [star]), gwDr(clientTls('ISTIO_MUTUAL'))]),
      [],
    );
    const simple = tlsServer(443, ['edition.cnn.com'], 'SIMPLE', 'HTTPS');
    assert.deepEqual(
      only('TG1006', [cnn, gateway('istio-egressgateway', [simple]), gwDr(clientTls('ISTIO_MUTUAL'))]),
      [],
    );
    const elsewhere = destinationRule('x', {
      host: 'edition.cnn.com',
      trafficPolicy: { tls: clientTls('ISTIO_MUTUAL'), portLevelSettings: [] },
    });
    assert.deepEqual(only('TG1006', [cnn, gateway('istio-egressgateway', [mtlsServer]), elsewhere]), []);
  });
});

describe('TG1007 TlsServerNeedsTcpRoutes', () => {
  const server = tlsServer(443, ['edition.cnn.com'], 'ISTIO_MUTUAL');
  const tlsOnly = virtualService('v', {
    hosts: ['edition.cnn.com'],
    gateways: ['istio-system/istio-egressgateway', 'mesh'],
    tls: [
      tlsRoute([tlsMatch(['edition.cnn.com'], { gateways: ['mesh'], port: 443 })], [to(GW_HOST, { port: 443 })]),
      tlsRoute(
        [tlsMatch(['edition.cnn.com'], { gateways: ['istio-system/istio-egressgateway'], port: 443 })],
        [to('edition.cnn.com', { port: 443 })],
      ),
    ],
  });

  it('a terminating TLS server bound by tls rules only', () => {
    const ds = only('TG1007', [cnn, gateway('istio-egressgateway', [server]), tlsOnly]);
    assert.deepEqual(
      ds.map((d) => [d.level, d.resource?.name, d.field]),
      [['error', 'v', 'spec.tls[1]']],
    );
    assert.match(ds[0]?.message ?? '', /ISTIO_MUTUAL/);
  });

  it('near misses: a tcp rule for the gateway, a PASSTHROUGH server', () => {
    const withTcp = virtualService('v', {
      ...tlsOnly.spec,
      tls: [tlsOnly.spec.tls[0]!],
      tcp: [
        tcpRoute(
          [l4Match({ gateways: ['istio-system/istio-egressgateway'], port: 443 })],
          [to('edition.cnn.com', { port: 443 })],
        ),
      ],
    });
    assert.deepEqual(only('TG1007', [cnn, gateway('istio-egressgateway', [server]), withTcp]), []);
    assert.deepEqual(
      only('TG1007', [
        cnn,
        gateway('istio-egressgateway', [tlsServer(443, ['edition.cnn.com'], 'PASSTHROUGH')]),
        tlsOnly,
      ]),
      [],
    );
  });
});

describe('TG1008 DuplicateSniHost', () => {
  const gw = gateway('istio-egressgateway', [tlsServer(443, ['*'], 'PASSTHROUGH')]);
  const rule = (sni: string[]) =>
    tlsRoute(
      [tlsMatch(sni, { gateways: ['istio-system/istio-egressgateway'], port: 443 })],
      [to('edition.cnn.com', { port: 443 })],
    );
  const bound = (name: string, hosts: string[], rules: ReturnType<typeof rule>[]) =>
    virtualService(name, { hosts, gateways: ['istio-system/istio-egressgateway'], tls: rules });

  it('the same SNI host in a later VirtualService on the same gateway port', () => {
    const a = bound('a', ['edition.cnn.com'], [rule(['edition.cnn.com'])]);
    const b = bound('b', ['*.cnn.com'], [rule(['www.cnn.com', 'edition.cnn.com'])]);
    const ds = only('TG1008', [cnn, gw, a, b]);
    assert.deepEqual(
      ds.map((d) => [d.level, d.resource?.name, d.field]),
      [['warning', 'b', 'spec.tls[0].match[0].sniHosts[1]']],
    );
    assert.match(ds[0]?.message ?? '', /default\/a tls rule #0/);
  });

  it('the same SNI host twice in one VirtualService', () => {
    const a = bound('a', ['edition.cnn.com'], [rule(['edition.cnn.com']), rule(['edition.cnn.com'])]);
    assert.deepEqual(
      only('TG1008', [cnn, gw, a]).map((d) => d.field),
      ['spec.tls[1].match[0].sniHosts[0]'],
    );
  });

  it('near misses: a wildcard and a concrete SNI host, another port, a terminating server', () => {
    const a = bound('a', ['*.cnn.com'], [rule(['*.cnn.com'])]);
    const b = bound('b', ['edition.cnn.com'], [rule(['edition.cnn.com'])]);
    assert.deepEqual(only('TG1008', [cnn, gw, a, b]), []);
    const twoPorts = gateway('istio-egressgateway', [
      tlsServer(443, ['*'], 'PASSTHROUGH'),
      tlsServer(8443, ['*'], 'PASSTHROUGH'),
    ]);
    const other = virtualService('c', {
      hosts: ['edition.cnn.com'],
      gateways: ['istio-system/istio-egressgateway'],
      tls: [
        tlsRoute(
          [tlsMatch(['edition.cnn.com'], { gateways: ['istio-system/istio-egressgateway'], port: 8443 })],
          [to('edition.cnn.com', { port: 443 })],
        ),
      ],
    });
    assert.deepEqual(only('TG1008', [cnn, twoPorts, b, other]), []);
    const terminating = gateway('istio-egressgateway', [tlsServer(443, ['*'], 'SIMPLE')]);
    assert.deepEqual(
      only('TG1008', [cnn, terminating, b, bound('d', ['edition.cnn.com'], [rule(['edition.cnn.com'])])]),
      [],
    );
  });
});
