import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyResource } from '../model/index.js';
import { buildSnapshot } from './build.js';
import { DEFAULT_EGRESS_GATEWAY } from './mesh.js';
import {
  deployment,
  destinationRule,
  EGRESS_GW,
  istioOperator,
  kubeService,
  node,
  resource,
  port,
  serviceEntry,
  SLEEP,
} from './testing/fixtures.js';

const build = (resources: AnyResource[], instances = [SLEEP, EGRESS_GW]) =>
  buildSnapshot({ version: 'v7', resources, instances });

describe('buildSnapshot', () => {
  it('layers IstioOperator meshConfig over the defaults, in namespace/name order', () => {
    const s = build([
      istioOperator('b', { meshConfig: { accessLogEncoding: 'TEXT' } }),
      istioOperator('a', { meshConfig: { outboundTrafficPolicy: 'REGISTRY_ONLY', accessLogEncoding: 'JSON' } }),
    ]);
    assert.deepEqual(s.mesh, {
      outboundTrafficPolicy: 'REGISTRY_ONLY',
      accessLogFile: '/dev/stdout',
      accessLogEncoding: 'TEXT',
      accessLogFormat: '',
      rootNamespace: 'istio-system',
      connectTimeoutMs: 10_000,
      pathNormalization: 'BASE',
      defaultServiceExportTo: ['*'],
      defaultVirtualServiceExportTo: ['*'],
      defaultDestinationRuleExportTo: ['*'],
    });
    assert.ok(Object.isFrozen(s) && Object.isFrozen(s.mesh) && Object.isFrozen(s.proxies));
  });

  it("declares Istio's default egress gateway when none is declared, and none when it is disabled", () => {
    assert.deepEqual(build([]).egressGateways, [DEFAULT_EGRESS_GATEWAY]);
    const off = istioOperator('off', { egressGateways: [{ ...DEFAULT_EGRESS_GATEWAY, enabled: false }] });
    assert.deepEqual(build([off]).egressGateways, []);
    const ig = resource('IstioGateway', 'eg', 'istio-egress', {
      gatewayType: 'egress',
      gateway: {
        name: 'egressgateway-a',
        namespace: 'istio-egress',
        enabled: true,
        labels: { app: 'a' },
        ports: [],
        replicas: 1,
      },
    });
    assert.deepEqual(
      build([ig]).egressGateways.map((g) => g.name),
      ['egressgateway-a'],
    );
  });

  it('declares a router per gateway, then a sidecar per Deployment, sorted', () => {
    const s = build([deployment('zeta', { app: 'z' }), deployment('alpha', { app: 'a' }, 'team')]);
    assert.deepEqual(
      s.proxies.map((p) => [p.type, `${p.namespace}/${p.name}`, p.serviceAccount]),
      [
        ['router', 'istio-system/istio-egressgateway', 'istio-egressgateway-service-account'],
        ['sidecar', 'default/zeta', 'zeta'],
        ['sidecar', 'team/alpha', 'alpha'],
      ],
    );
  });

  it('registry: the gateway Service with live router endpoints on target ports', () => {
    const gw = build([]).registry.resolve('istio-egressgateway.istio-system', 'default');
    assert.equal(gw?.host, 'istio-egressgateway.istio-system.svc.cluster.local');
    assert.deepEqual(
      gw?.ports.map((p) => [p.number, p.targetPort, p.protocol]),
      [
        [80, 8080, 'HTTP2'],
        [443, 8443, 'HTTPS'],
      ],
    );
    assert.deepEqual(
      gw?.endpoints.map((e) => [e.address, e.ports.http2]),
      [[EGRESS_GW.ip, 8080]],
    );
  });

  it('registry: first ServiceEntry per namespace wins, a Kubernetes Service beats a ServiceEntry, own namespace preferred', () => {
    const s = build([
      serviceEntry('first', { hosts: ['dup.example.com'], resolution: 'DNS' }),
      serviceEntry('second', { hosts: ['dup.example.com'], resolution: 'STATIC' }),
      serviceEntry('team', { hosts: ['dup.example.com'], resolution: 'NONE' }, 'team'),
      serviceEntry('squat', { hosts: ['web.default.svc.cluster.local'], resolution: 'DNS' }),
      kubeService('web', { app: 'web' }, [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }]),
    ]);
    assert.equal(s.registry.exact('dup.example.com', 'default')?.resolution, 'DNS');
    assert.equal(s.registry.exact('dup.example.com', 'team')?.resolution, 'NONE');
    assert.equal(s.registry.exact('dup.example.com', 'elsewhere')?.namespace, 'default');
    assert.equal(s.registry.resolve('web', 'default')?.origin, 'KubernetesService');
    assert.equal(s.registry.resolve('web', 'other'), undefined);
  });

  it('registry: two ServiceEntries for one host in one namespace are one service with the union of their ports', () => {
    const s = build([
      serviceEntry('http', { hosts: ['aliyun.com'], ports: [port(80, 'HTTP', 'http')] }),
      serviceEntry('https', { hosts: ['aliyun.com'], ports: [port(443, 'TLS', 'tls'), port(80, 'TCP', 'other')] }),
      serviceEntry('team', { hosts: ['aliyun.com'], ports: [port(8443, 'TLS', 'tls')] }, 'team'),
    ]);
    const svc = s.registry.exact('aliyun.com', 'default');
    assert.deepEqual(
      svc?.ports.map((p) => [p.number, p.protocol]),
      [
        [80, 'HTTP'],
        [443, 'TLS'],
      ],
    );
    assert.deepEqual(
      s.registry.exact('aliyun.com', 'team')?.ports.map((p) => p.number),
      [8443],
      'another namespace stays apart',
    );
  });

  it('registry: wildcard ServiceEntries cover concrete hosts, most specific first', () => {
    const s = build([
      serviceEntry('w', { hosts: ['*.wikipedia.org'], resolution: 'NONE' }),
      serviceEntry('o', { hosts: ['*.org'], resolution: 'NONE' }),
    ]);
    assert.equal(s.registry.lookup('en.wikipedia.org', 'default')?.host, '*.wikipedia.org');
    assert.equal(s.registry.lookup('example.org', 'default')?.host, '*.org');
    assert.equal(s.registry.lookup('wikipedia.com', 'default'), undefined);
  });

  it('destination rules: client namespace, then service namespace, then root; exact before wildcard', () => {
    const s = build([
      destinationRule('root', { host: 'a.example.com', subsets: [{ name: 'root', labels: {} }] }, 'istio-system'),
      destinationRule('svc', { host: '*.example.com', subsets: [{ name: 'svcns', labels: {} }] }, 'svc'),
      destinationRule('client-wild', { host: '*.example.com', subsets: [{ name: 'wild', labels: {} }] }, 'client'),
      destinationRule('client-exact', { host: 'a.example.com', subsets: [{ name: 'exact', labels: {} }] }, 'client'),
      destinationRule(
        'private',
        { host: 'a.example.com', exportTo: ['.'], subsets: [{ name: 'private', labels: {} }] },
        'hidden',
      ),
    ]);
    const names = (ns: string, svcNs: string) =>
      s.destinationRules.lookup('a.example.com', svcNs, { namespace: ns, labels: {} })?.subsets.map((x) => x.name);
    assert.deepEqual(names('client', 'svc'), ['exact']);
    assert.deepEqual(names('other', 'svc'), ['svcns']);
    assert.deepEqual(names('other', 'nowhere'), ['root']);
    assert.deepEqual(names('other', 'hidden'), ['root']);
    assert.deepEqual(names('hidden', 'svc'), ['private']);
  });

  it('Kubernetes Service endpoints are the matching live instances of its namespace', () => {
    const a = node('sidecar', 'web', 'default', '127.0.3.1', { app: 'web' });
    const b = node('sidecar', 'web', 'other', '127.0.3.2', { app: 'web' });
    const s = build([kubeService('web', { app: 'web' }, [{ port: 80, targetPort: 8080, protocol: 'TCP' }])], [a, b]);
    assert.deepEqual(
      s.registry.resolve('web', 'default')?.endpoints.map((e) => e.address),
      ['127.0.3.1'],
    );
  });
});
