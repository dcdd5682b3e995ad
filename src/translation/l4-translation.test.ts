// TLS and TCP translation: the sidecar's filter chains for tunnelled connections, the gateway's SNI and terminating
// chains, and the TLS a DestinationRule originates.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyResource } from '../model/index.js';
import type {
  FilterChain,
  GatewayNetworkListener,
  ProxyConfig,
  SidecarOutboundListener,
} from '../proxy-config/types.js';
import { buildSnapshot, type TlsSecret } from '../snapshot/index.js';
import {
  clientTls,
  destinationRule,
  EGRESS_GW,
  gateway,
  l4Match,
  port,
  registryOnly,
  SLEEP,
  serviceEntry,
  tcpRoute,
  tlsMatch,
  tlsRoute,
  tlsServer,
  virtualService,
} from '../snapshot/testing/fixtures.js';
import { translate } from './translate.js';

const GW_HOST = 'istio-egressgateway.istio-system.svc.cluster.local';

function configs(resources: AnyResource[], secrets: Map<string, TlsSecret> = new Map()) {
  const snapshot = buildSnapshot({ version: '1', resources, instances: [SLEEP, EGRESS_GW], secrets });
  return { sidecar: translate(SLEEP, snapshot), gateway: translate(EGRESS_GW, snapshot) };
}

function sidecarListener(cfg: ProxyConfig): SidecarOutboundListener {
  const l = cfg.listeners[0];
  assert.equal(l?.kind, 'sidecar-outbound');
  return l as SidecarOutboundListener;
}

function networkListener(cfg: ProxyConfig, port: number): GatewayNetworkListener {
  const l = cfg.listeners.find((x) => x.kind === 'gateway-network' && x.servicePort === port);
  assert.ok(l, `a filter-chain listener for service port ${port}`);
  return l as GatewayNetworkListener;
}

/** The chains, without those every sidecar has for the mesh's own services (the egress gateway's HTTPS port). */
const summary = (chains: readonly FilterChain[]) =>
  chains
    .filter((c) => !c.name.includes('.svc.cluster.local'))
    .map((c) => ({
      match: c.match,
      to: c.filter.kind === 'http' ? c.filter.routeConfigName : c.filter.clusters.map((w) => w.cluster),
    }));

/** istio.io "Egress Gateways", HTTPS: SNI passthrough at the gateway. */
const passthroughTask = (): AnyResource[] => [
  serviceEntry('cnn', { hosts: ['edition.cnn.com'], ports: [port(443, 'TLS', 'tls')] }),
  gateway(
    'istio-egressgateway',
    [tlsServer(443, ['edition.cnn.com'], 'PASSTHROUGH')],
    { istio: 'egressgateway' },
    'default',
  ),
  destinationRule('egressgateway-for-cnn', { host: GW_HOST, subsets: [{ name: 'cnn', labels: {} }] }),
  virtualService('direct-cnn-through-egress-gateway', {
    hosts: ['edition.cnn.com'],
    gateways: ['mesh', 'default/istio-egressgateway'],
    tls: [
      tlsRoute(
        [tlsMatch(['edition.cnn.com'], { gateways: ['mesh'], port: 443 })],
        [{ destination: { host: GW_HOST, subset: 'cnn', port: 443 }, weight: 100 }],
      ),
      tlsRoute(
        [tlsMatch(['edition.cnn.com'], { gateways: ['default/istio-egressgateway'], port: 443 })],
        [{ destination: { host: 'edition.cnn.com', port: 443 }, weight: 100 }],
      ),
    ],
  }),
];

/** The chains that proxy bytes, leaving out those that route HTTP. */
const l4Only = (chains: readonly FilterChain[]) => summary(chains).filter((c) => typeof c.to !== 'string');

describe('TLS and TCP translation', () => {
  it('the passthrough task: the sidecar sends SNI edition.cnn.com to the gateway subset', () => {
    const { sidecar } = configs(passthroughTask());
    const l = sidecarListener(sidecar);
    assert.deepEqual(
      summary(l.filterChains).filter((c) => c.match.destinationPort === 443),
      [
        {
          match: { destinationPort: 443, serverNames: ['edition.cnn.com'], transportProtocol: 'tls' },
          to: [`outbound|443|cnn|${GW_HOST}`],
        },
      ],
    );
    assert.ok(sidecar.clusters.some((c) => c.name === `outbound|443|cnn|${GW_HOST}`));
  });

  it('the passthrough task: the gateway routes SNI edition.cnn.com on 8443 to outbound|443||edition.cnn.com', () => {
    const { gateway: gw } = configs(passthroughTask());
    const l = networkListener(gw, 443);
    assert.equal(l.port, 8443);
    assert.equal(l.name, '0.0.0.0_8443');
    assert.deepEqual(summary(l.filterChains), [
      { match: { serverNames: ['edition.cnn.com'], transportProtocol: 'tls' }, to: ['outbound|443||edition.cnn.com'] },
    ]);
    const cluster = gw.clusters.find((c) => c.name === 'outbound|443||edition.cnn.com');
    assert.equal(cluster?.type, 'STRICT_DNS');
  });

  it('a TLS ServiceEntry port without a VirtualService: a chain by SNI = host; REGISTRY_ONLY drops the rest', () => {
    const { sidecar } = configs([
      registryOnly(),
      serviceEntry('google', { hosts: ['www.google.com'], ports: [port(443, 'HTTPS', 'https')] }),
    ]);
    const l = sidecarListener(sidecar);
    assert.deepEqual(l4Only(l.filterChains), [
      {
        match: { destinationPort: 443, serverNames: ['www.google.com'], transportProtocol: 'tls' },
        to: ['outbound|443||www.google.com'],
      },
    ]);
    assert.deepEqual(summary([l.defaultFilterChain]), [{ match: {}, to: ['BlackHoleCluster'] }]);
  });

  it('HTTP ports get a plain-text chain to their route config; ALLOW_ANY passes the rest through', () => {
    const { sidecar } = configs([serviceEntry('httpbin', { hosts: ['httpbin.org'] })]);
    const l = sidecarListener(sidecar);
    assert.deepEqual(summary(l.filterChains), [
      { match: { destinationPort: 80, transportProtocol: 'raw_buffer' }, to: '80' },
    ]);
    assert.deepEqual(summary([l.defaultFilterChain]), [{ match: {}, to: ['PassthroughCluster'] }]);
  });

  it('a TCP port is told apart by destination: hosts and addresses, or a tcp rule', () => {
    const { sidecar } = configs([
      serviceEntry('db', {
        hosts: ['db.example.com'],
        addresses: ['10.0.0.5/32'],
        ports: [port(5432, 'TCP', 'tcp')],
        resolution: 'STATIC',
        endpoints: [{ address: '10.0.0.5', ports: {}, labels: {} }],
      }),
      serviceEntry('mq', { hosts: ['mq.example.com'], ports: [port(5672, 'TCP', 'tcp')] }),
      virtualService('mq', {
        hosts: ['mq.example.com'],
        tcp: [
          tcpRoute([l4Match({ port: 5672 })], [{ destination: { host: 'mq.example.com', port: 5672 }, weight: 100 }]),
        ],
      }),
    ]);
    assert.deepEqual(l4Only(sidecarListener(sidecar).filterChains), [
      {
        match: { destinationPort: 5432, destinations: ['db.example.com', '10.0.0.5/32'] },
        to: ['outbound|5432||db.example.com'],
      },
      { match: { destinationPort: 5672, destinations: ['mq.example.com'] }, to: ['outbound|5672||mq.example.com'] },
    ]);
  });

  it('a later passthrough match repeating an SNI host already routed on the port is skipped whole', () => {
    const resources = passthroughTask();
    resources.push(
      virtualService('again', {
        hosts: ['edition.cnn.com', 'other.cnn.com'],
        gateways: ['default/istio-egressgateway'],
        tls: [
          tlsRoute(
            [tlsMatch(['edition.cnn.com', 'other.cnn.com'])],
            [{ destination: { host: 'other.cnn.com', port: 443 }, weight: 100 }],
          ),
        ],
      }),
    );
    const { gateway: gw } = configs(resources);
    assert.equal(networkListener(gw, 443).filterChains.length, 1);
  });

  it('a terminating HTTPS server gets a chain by its hosts with its credential, and its own route config', () => {
    const server = {
      ...tlsServer(443, ['secure.example.com'], 'SIMPLE', 'HTTPS', 'https'),
      tls: { mode: 'SIMPLE' as const, httpsRedirect: false, subjectAltNames: [], credentialName: 'secure-cred' },
    };
    const secrets = new Map<string, TlsSecret>([
      ['istio-system/secure-cred', { certificateChain: 'CERT', privateKey: 'KEY', source: 'test' }],
    ]);
    const { gateway: gw } = configs([gateway('gw', [server])], secrets);
    const [chain] = networkListener(gw, 443).filterChains;
    assert.deepEqual(chain?.match, { serverNames: ['secure.example.com'], transportProtocol: 'tls' });
    assert.deepEqual(chain?.tls, {
      mode: 'SIMPLE',
      subjectAltNames: [],
      certificateChain: { pem: 'CERT' },
      privateKey: { pem: 'KEY' },
    });
    assert.deepEqual(chain?.filter, { kind: 'http', routeConfigName: 'https.443.https.gw.istio-system' });
    assert.ok(gw.routeConfigs.some((rc) => rc.name === 'https.443.https.gw.istio-system'));
  });

  it('a credentialName with no secret is carried as unavailable, with where the secret was expected', () => {
    const server = {
      ...tlsServer(443, ['*'], 'SIMPLE', 'HTTPS', 'https'),
      tls: { mode: 'SIMPLE' as const, httpsRedirect: false, subjectAltNames: [], credentialName: 'missing' },
    };
    const { gateway: gw } = configs([gateway('gw', [server])]);
    const [chain] = networkListener(gw, 443).filterChains;
    assert.equal(chain?.match.serverNames, undefined, 'host "*" matches any SNI');
    assert.match(chain?.tls?.unavailable ?? '', /secrets\/istio-system\/missing\//);
  });

  it('DestinationRule tls SIMPLE on a port: the cluster originates TLS with the CA file and SANs', () => {
    const { sidecar } = configs([
      serviceEntry('cnn', {
        hosts: ['edition.cnn.com'],
        ports: [port(80, 'HTTP', 'http', 443)],
        subjectAltNames: ['edition.cnn.com'],
      }),
      destinationRule('cnn', {
        host: 'edition.cnn.com',
        trafficPolicy: {
          portLevelSettings: [{ port: 80, tls: clientTls('SIMPLE', { caCertificates: '/etc/certs/ca.pem' }) }],
        },
      }),
    ]);
    const c = sidecar.clusters.find((x) => x.name === 'outbound|80||edition.cnn.com');
    assert.deepEqual(c?.endpoints, [{ address: 'edition.cnn.com', port: 443 }]);
    assert.deepEqual(c?.tls, {
      mode: 'SIMPLE',
      subjectAltNames: ['edition.cnn.com'],
      insecureSkipVerify: false,
      trustedCa: { file: '/etc/certs/ca.pem' },
    });
  });
});
