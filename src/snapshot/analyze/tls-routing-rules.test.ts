import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyResource, DestinationRuleSpec } from '../../model/index.js';
import { buildSnapshot } from '../build.js';
import {
  clientTls,
  deployment,
  destinationRule,
  gateway,
  http,
  httpServer,
  l4Match,
  match,
  port,
  registryOnly,
  serviceEntry,
  tcpRoute,
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
const GW = 'istio-system/egress';
const CNN = 'edition.cnn.com';
const cnnTls = serviceEntry('cnn', { hosts: [CNN], ports: [port(443, 'TLS', 'tls')] });
const cnnHttps = serviceEntry('cnn', { hosts: [CNN], ports: [port(80, 'HTTP', 'http'), port(443, 'HTTPS', 'https')] });
const gwSubset = destinationRule('egressgateway-for-cnn', { host: GW_HOST, subsets: [{ name: 'cnn', labels: {} }] });

/** istio.io's HTTPS passthrough task: tls rules from the mesh to the gateway and from the gateway to the host. */
function passthroughVs(gatewayRules: Partial<Parameters<typeof virtualService>[1]> = {}) {
  return virtualService('direct-cnn', {
    hosts: [CNN],
    gateways: ['mesh', GW],
    tls: [
      tlsRoute([tlsMatch([CNN], { gateways: ['mesh'], port: 443 })], [to(GW_HOST, { subset: 'cnn', port: 443 })]),
      tlsRoute([tlsMatch([CNN], { gateways: [GW], port: 443 })], [to(CNN, { port: 443 })]),
    ],
    ...gatewayRules,
  });
}

const passthroughGw = gateway('egress', [tlsServer(443, [CNN], 'PASSTHROUGH')]);

/** istio.io's egress gateway TLS origination task: mesh mTLS to the gateway, TLS originated to the host there. */
function originationTask(gwTls: DestinationRuleSpec['subsets'][number]['trafficPolicy'] | undefined): AnyResource[] {
  return [
    cnnHttps,
    gateway('egress', [tlsServer(80, [CNN], 'ISTIO_MUTUAL', 'HTTPS')]),
    destinationRule('egressgateway-for-cnn', {
      host: GW_HOST,
      subsets: [{ name: 'cnn', labels: {}, ...(gwTls ? { trafficPolicy: gwTls } : {}) }],
    }),
    virtualService('direct-cnn', {
      hosts: [CNN],
      gateways: [GW, 'mesh'],
      http: [
        http({ match: [match({ gateways: ['mesh'], port: 80 })], route: [to(GW_HOST, { subset: 'cnn', port: 80 })] }),
        http({ match: [match({ gateways: [GW], port: 80 })], route: [to(CNN, { port: 443 })] }),
      ],
    }),
    destinationRule('originate-tls', {
      host: CNN,
      trafficPolicy: { portLevelSettings: [{ port: 443, tls: clientTls('SIMPLE') }] },
    }),
  ];
}

const meshMutual = { portLevelSettings: [{ port: 80, tls: clientTls('ISTIO_MUTUAL', { sni: CNN }) }] };

describe('TG1011 PassthroughServerWithoutTlsRoutes', () => {
  it('a PASSTHROUGH server bound by an http rule for its port: error at the rule, naming the gateway and the fix', () => {
    const vs = passthroughVs({
      tls: [tlsRoute([tlsMatch([CNN], { gateways: ['mesh'], port: 443 })], [to(GW_HOST, { port: 443 })])],
      http: [http({ match: [match({ gateways: [GW], port: 443 })], route: [to(CNN, { port: 443 })] })],
    });
    const ds = only('TG1011', [cnnTls, passthroughGw, vs]);
    assert.deepEqual(
      ds.map((d) => [d.level, d.resource?.name, d.field]),
      [['error', 'direct-cnn', 'spec.http[0]']],
    );
    assert.match(ds[0]?.message ?? '', /istio-system\/egress passes TLS through on port 443/);
    assert.match(ds[0]?.message ?? '', /filter_chain_not_found/);
    assert.match(ds[0]?.hint ?? '', /tls rule .*sniHosts: \[edition\.cnn\.com\]/);
  });

  it('tcp rules too, and a rule without match.port applies on every port', () => {
    const vs = virtualService('v', {
      hosts: [CNN],
      gateways: [GW],
      tcp: [tcpRoute([], [to(CNN, { port: 443 })])],
    });
    assert.deepEqual(
      only('TG1011', [cnnTls, passthroughGw, vs]).map((d) => d.field),
      ['spec.tcp[0]'],
    );
  });

  it('near misses: the passthrough task, an http rule for another port, a terminating server, a host not bound', () => {
    const otherPort = virtualService('b', {
      hosts: [CNN],
      gateways: [GW],
      http: [http({ match: [match({ port: 80 })], route: [to(CNN, { port: 80 })] })],
    });
    const terminating = gateway('term', [tlsServer(443, [CNN], 'SIMPLE', 'HTTPS')]);
    const viaTerminating = virtualService('c', {
      hosts: [CNN],
      gateways: ['istio-system/term'],
      http: [http({ route: [to(CNN, { port: 443 })] })],
    });
    const elsewhere = virtualService('d', {
      hosts: ['other.example.com'],
      gateways: [GW],
      http: [http({ route: [to(CNN)] })],
    });
    const ds = only('TG1011', [
      cnnTls,
      passthroughGw,
      passthroughVs(),
      otherPort,
      terminating,
      viaTerminating,
      elsewhere,
    ]);
    assert.deepEqual(ds, []);
  });
});

describe('TG1012 TlsOriginationOnTlsTraffic', () => {
  it('SIMPLE for every port of an HTTPS host that only the sidecars’ own SNI chain reaches: warning at the mode', () => {
    const dr = destinationRule('originate', {
      host: CNN,
      trafficPolicy: { tls: clientTls('SIMPLE'), portLevelSettings: [] },
      subsets: [],
    });
    const ds = only('TG1012', [cnnHttps, dr]);
    assert.deepEqual(
      ds.map((d) => [d.level, d.field]),
      [['warning', 'spec.trafficPolicy.tls.mode']],
    );
    assert.match(ds[0]?.message ?? '', /edition\.cnn\.com:443, a port declared HTTPS/);
    assert.match(ds[0]?.message ?? '', /own SNI chain/);
    assert.match(ds[0]?.hint ?? '', /targetPort 443/);
  });

  it('MUTUAL in a subset that a tls rule routes TLS to', () => {
    const dr = destinationRule('d', {
      host: CNN,
      subsets: [
        {
          name: 'mtls',
          labels: {},
          trafficPolicy: {
            portLevelSettings: [
              { port: 443, tls: clientTls('MUTUAL', { clientCertificate: '/c.pem', privateKey: '/k.pem' }) },
            ],
          },
        },
      ],
    });
    const vs = virtualService('v', {
      hosts: [CNN],
      tls: [tlsRoute([tlsMatch([CNN], { port: 443 })], [to(CNN, { subset: 'mtls', port: 443 })])],
    });
    const ds = only('TG1012', [cnnTls, dr, vs]);
    assert.deepEqual(
      ds.map((d) => d.field),
      ['spec.subsets[0].trafficPolicy.portLevelSettings[0].tls.mode'],
    );
    assert.match(ds[0]?.message ?? '', /tls rule #0 of VirtualService default\/v/);
  });

  it('near misses: origination on an HTTP port with targetPort 443, an http rule to the HTTPS port, ISTIO_MUTUAL', () => {
    const sidecarTask = [
      serviceEntry('cnn', {
        hosts: [CNN],
        ports: [port(80, 'HTTP', 'http-port', 443), port(443, 'HTTPS', 'https-port')],
      }),
      destinationRule('d', {
        host: CNN,
        trafficPolicy: { portLevelSettings: [{ port: 80, tls: clientTls('SIMPLE') }] },
      }),
    ];
    assert.deepEqual(only('TG1012', sidecarTask), []);
    assert.deepEqual(only('TG1012', originationTask(meshMutual)), []);
    const mesh = destinationRule('m', {
      host: CNN,
      trafficPolicy: { tls: clientTls('ISTIO_MUTUAL'), portLevelSettings: [] },
    });
    assert.deepEqual(only('TG1012', [cnnHttps, mesh]), []);
  });

  it('a subset no route names does not count: its cluster gets no TLS traffic', () => {
    const dr = destinationRule('d', {
      host: CNN,
      subsets: [{ name: 'unused', labels: {}, trafficPolicy: { tls: clientTls('SIMPLE'), portLevelSettings: [] } }],
    });
    assert.deepEqual(only('TG1012', [cnnHttps, dr]), []);
  });
});

describe('TG1013 MeshL4RuleWithoutServicePort', () => {
  it('a tls rule on a port the host declares as TCP: warning at match.port', () => {
    const se = serviceEntry('cnn', { hosts: [CNN], addresses: ['10.1.1.1'], ports: [port(443, 'TCP', 'tcp')] });
    const ds = only('TG1013', [se, passthroughGw, gwSubset, passthroughVs()]);
    assert.deepEqual(
      ds.map((d) => [d.level, d.field]),
      [['warning', 'spec.tls[0].match[0].port']],
    );
    assert.match(ds[0]?.message ?? '', /declared on port 443 as TCP/);
    assert.match(ds[0]?.hint ?? '', /protocol TLS/);
  });

  it('a tls rule for a host no service declares, routed to the gateway port (which TG1004 lets pass)', () => {
    const ds = run([registryOnly(), passthroughGw, gwSubset, passthroughVs()]);
    assert.deepEqual(
      ds.filter((d) => d.code === 'TG1013' || d.code === 'TG1004').map((d) => [d.code, d.field]),
      [['TG1013', 'spec.tls[0].match[0].port']],
    );
    assert.match(ds.find((d) => d.code === 'TG1013')?.message ?? '', /no service declares .*REGISTRY_ONLY .*refused/);
  });

  it('a tcp rule on a port the host declares as HTTP, and a tls rule without port on a host with no TLS port', () => {
    const aliyun = serviceEntry('aliyun', { hosts: ['aliyun.com'], ports: [port(80, 'HTTP', 'http')] });
    const tcp = virtualService('t', {
      hosts: ['aliyun.com'],
      tcp: [tcpRoute([l4Match({ port: 80 })], [to('aliyun.com')])],
    });
    const tls = virtualService('s', {
      hosts: ['aliyun.com'],
      tls: [tlsRoute([tlsMatch(['aliyun.com'])], [to('aliyun.com')])],
    });
    assert.deepEqual(
      only('TG1013', [aliyun, tcp, tls]).map((d) => [d.resource?.name, d.field]),
      [
        ['s', 'spec.tls[0].match[0]'],
        ['t', 'spec.tcp[0].match[0].port'],
      ],
    );
  });

  it('near misses: the passthrough task, a port nothing declares (TG1004 alone), a gateway-only rule, tcp on TCP', () => {
    assert.deepEqual(only('TG1013', [cnnTls, passthroughGw, gwSubset, passthroughVs()]), []);
    const undeclared = virtualService('u', {
      hosts: [CNN],
      tls: [tlsRoute([tlsMatch([CNN], { port: 8443 })], [to(CNN, { port: 443 })])],
    });
    assert.deepEqual(
      run([cnnTls, undeclared])
        .filter((d) => d.code === 'TG1013' || d.code === 'TG1004')
        .map((d) => d.code),
      ['TG1004'],
    );
    const gatewayOnly = virtualService('g', {
      hosts: [CNN],
      gateways: [GW],
      tls: [tlsRoute([tlsMatch([CNN], { port: 443 })], [to(CNN, { port: 443 })])],
    });
    const db = serviceEntry('db', { hosts: ['db.example.com'], addresses: ['10.0.0.5'], ports: [port(5432, 'TCP')] });
    const tcp = virtualService('t', {
      hosts: ['db.example.com'],
      tcp: [tcpRoute([l4Match({ port: 5432 })], [to('db.example.com')])],
    });
    assert.deepEqual(only('TG1013', [cnnTls, passthroughGw, gatewayOnly, db, tcp]), []);
  });
});

describe('TG1017 GatewayPortTlsMismatch', () => {
  it('plain HTTP into an ISTIO_MUTUAL server: the TLS origination task without the gateway DestinationRule’s tls', () => {
    const ds = only('TG1017', originationTask(undefined));
    assert.deepEqual(
      ds.map((d) => [d.level, d.resource?.name, d.field]),
      [['error', 'direct-cnn', 'spec.http[0].route[0].destination']],
    );
    assert.match(ds[0]?.message ?? '', /namespace default send plain HTTP to istio-egressgateway\S*:80/);
    assert.match(ds[0]?.message ?? '', /ISTIO_MUTUAL\) terminates mesh mTLS/);
    assert.match(ds[0]?.hint ?? '', /ISTIO_MUTUAL and sni edition\.cnn\.com on port 80/);
  });

  it('ISTIO_MUTUAL into a plain HTTP server, and into a PASSTHROUGH server', () => {
    const httpGw = [
      cnnHttps,
      gateway('egress', [httpServer(80, [CNN])]),
      destinationRule('egressgateway-for-cnn', {
        host: GW_HOST,
        subsets: [{ name: 'cnn', labels: {}, trafficPolicy: meshMutual }],
      }),
      virtualService('direct-cnn', {
        hosts: [CNN],
        gateways: [GW, 'mesh'],
        http: [
          http({
            match: [match({ gateways: ['mesh'], port: 80 })],
            route: [to(GW_HOST, { subset: 'cnn', port: 80 })],
          }),
          http({ match: [match({ gateways: [GW], port: 80 })], route: [to(CNN, { port: 80 })] }),
        ],
      }),
    ];
    const [d] = only('TG1017', httpGw);
    assert.match(
      d?.message ?? '',
      /send mesh mTLS \(ISTIO_MUTUAL\) .*spec\.subsets\[0\]\.trafficPolicy\.portLevelSettings\[0\]\.tls/,
    );
    assert.match(d?.message ?? '', /serves plain HTTP/);
    const mutualToPassthrough = destinationRule('egressgateway-for-cnn', {
      host: GW_HOST,
      subsets: [
        {
          name: 'cnn',
          labels: {},
          trafficPolicy: { portLevelSettings: [{ port: 443, tls: clientTls('ISTIO_MUTUAL', { sni: CNN }) }] },
        },
      ],
    });
    const ds = only('TG1017', [cnnTls, passthroughGw, mutualToPassthrough, passthroughVs()]);
    assert.deepEqual(
      ds.map((x) => x.field),
      ['spec.tls[0].route[0].destination'],
    );
    assert.match(ds[0]?.message ?? '', /passes TLS through by SNI/);
  });

  it('a mesh tcp rule into a TLS server that terminates ISTIO_MUTUAL, without ISTIO_MUTUAL from the sidecars', () => {
    const db = serviceEntry('db', { hosts: ['db.example.com'], addresses: ['10.0.0.5'], ports: [port(5432, 'TCP')] });
    const gw = gateway('egress', [tlsServer(5432, ['db.example.com'], 'ISTIO_MUTUAL')]);
    const mtls = clientTls('ISTIO_MUTUAL', { sni: 'db.example.com' });
    const vs = virtualService('db', {
      hosts: ['db.example.com'],
      gateways: ['mesh', GW],
      tcp: [
        tcpRoute([l4Match({ gateways: ['mesh'], port: 5432 })], [to(GW_HOST, { port: 5432 })]),
        tcpRoute([l4Match({ gateways: [GW], port: 5432 })], [to('db.example.com', { port: 5432 })]),
      ],
    });
    const ds = only('TG1017', [db, gw, vs]);
    assert.deepEqual(
      ds.map((d) => d.field),
      ['spec.tcp[0].route[0].destination'],
    );
    assert.match(ds[0]?.message ?? '', /the application's bytes as they are/);
    const withMtls = destinationRule('to-gw', {
      host: GW_HOST,
      trafficPolicy: { portLevelSettings: [{ port: 5432, tls: mtls }] },
    });
    assert.deepEqual(only('TG1017', [db, gw, vs, withMtls]), []);
    const passthrough = gateway('egress', [tlsServer(5432, ['db.example.com'], 'PASSTHROUGH')]);
    assert.deepEqual(only('TG1017', [db, passthrough, vs]), [], 'the application may well speak TLS itself');
  });

  it('each client namespace is judged by the DestinationRule it finds: only the one without ISTIO_MUTUAL', () => {
    const resources = originationTask(meshMutual).map((r) =>
      r.kind === 'VirtualService' ? { ...r, spec: { ...r.spec, exportTo: ['*'] } } : r,
    );
    const ds = only('TG1017', [...resources, deployment('sleep', { app: 'sleep' }, 'team-b')]);
    assert.deepEqual(
      ds.map((d) => d.field),
      ['spec.http[0].route[0].destination'],
    );
    assert.match(ds[0]?.message ?? '', /Sidecars in namespace team-b send plain HTTP/);
  });

  it('near misses: the TLS origination task, the HTTP gateway task, the passthrough task', () => {
    assert.deepEqual(only('TG1017', originationTask(meshMutual)), []);
    const httpTask = [
      cnnHttps,
      gateway('egress', [httpServer(80, [CNN])]),
      gwSubset,
      virtualService('direct-cnn', {
        hosts: [CNN],
        gateways: [GW, 'mesh'],
        http: [
          http({ match: [match({ gateways: ['mesh'], port: 80 })], route: [to(GW_HOST, { subset: 'cnn', port: 80 })] }),
          http({ match: [match({ gateways: [GW], port: 80 })], route: [to(CNN, { port: 80 })] }),
        ],
      }),
    ];
    assert.deepEqual(only('TG1017', httpTask), []);
    assert.deepEqual(only('TG1017', [cnnTls, passthroughGw, gwSubset, passthroughVs()]), []);
  });
});
