import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyResource } from '../../model/index.js';
import { buildSnapshot } from '../build.js';
import {
  deployment,
  destinationRule,
  gateway,
  http,
  httpServer,
  kubeService,
  match,
  port,
  registryOnly,
  serviceEntry,
  sidecarResource,
  to,
  virtualService,
} from '../testing/fixtures.js';
import { analyze } from './index.js';

const run = (resources: AnyResource[]) => analyze(buildSnapshot({ version: 'v1', resources, instances: [] }));
const only = (code: string, resources: AnyResource[]) => run(resources).filter((d) => d.code === code);
const GW_HOST = 'istio-egressgateway.istio-system.svc.cluster.local';
const aliyun = serviceEntry('aliyun', { hosts: ['aliyun.com'], ports: [port(80, 'HTTP', 'http')] });

describe('IST0134 ServiceEntryAddressesRequired', () => {
  it('each TCP port of a ServiceEntry without addresses', () => {
    const se = serviceEntry('db', {
      hosts: ['db.example.com'],
      ports: [port(5432, 'TCP', 'pg'), port(443, 'TLS', 'tls'), port(3306, 'TCP', 'mysql')],
    });
    const ds = run([se]);
    assert.deepEqual(
      ds.map((d) => [d.code, d.level, d.field]),
      [
        ['IST0134', 'warning', 'spec.ports[0]'],
        ['IST0134', 'warning', 'spec.ports[2]'],
      ],
    );
    assert.match(ds[0]?.message ?? '', /5432/);
  });

  it('near misses: with addresses, or HTTP/TLS ports only', () => {
    const withAddresses = serviceEntry('db', {
      hosts: ['db.example.com'],
      addresses: ['10.1.2.3/32'],
      ports: [port(5432, 'TCP', 'pg')],
      resolution: 'STATIC',
      endpoints: [{ address: '10.1.2.3', ports: {}, labels: {} }],
    });
    const typed = serviceEntry('web', {
      hosts: ['web.example.com'],
      ports: [port(80, 'HTTP', 'http'), port(443, 'TLS', 'tls')],
    });
    assert.deepEqual(run([withAddresses, typed]), []);
  });
});

describe('TG1003 SubsetNotVisibleToClient', () => {
  const cnnSubset = destinationRule('for-cnn', { host: GW_HOST, subsets: [{ name: 'cnn', labels: {} }] }, 'team-dr');
  const meshRoute = (ns = 'default', extra: Partial<Parameters<typeof match>[0]> = {}) =>
    virtualService(
      'v',
      {
        hosts: ['aliyun.com'],
        http: [http({ match: [match({ port: 80, ...extra })], route: [to(GW_HOST, { subset: 'cnn', port: 80 })] })],
      },
      ns,
    );

  it('sidecar side: VirtualService in A, DestinationRule in B, service in C, even with no workload yet', () => {
    const ds = run([aliyun, cnnSubset, meshRoute()]);
    assert.deepEqual(
      ds.map((d) => [d.code, d.level, d.field]),
      [['TG1003', 'warning', 'spec.http[0].route[0].destination.subset']],
    );
    assert.match(ds[0]?.message ?? '', /team-dr\/for-cnn/);
    assert.match(ds[0]?.message ?? '', /namespace default/);
    assert.match(ds[0]?.hint ?? '', /istio-system/);
  });

  it('a workload in another namespace the VirtualService is exported to', () => {
    const local = destinationRule('for-cnn', { host: GW_HOST, subsets: [{ name: 'cnn', labels: {} }] });
    const ds = only('TG1003', [
      aliyun,
      local,
      meshRoute(),
      deployment('sleep', { app: 'sleep' }, 'team-a'),
      deployment('sleep', { app: 'sleep' }),
    ]);
    assert.equal(ds.length, 1);
    assert.match(ds[0]?.message ?? '', /namespace team-a /);
  });

  it('a gateway rule whose subset the egress gateway (istio-system) cannot see', () => {
    const ext = destinationRule('aliyun-v1', { host: 'aliyun.com', subsets: [{ name: 'v1', labels: {} }] }, 'team-dr');
    const vs = virtualService(
      'v',
      {
        hosts: ['aliyun.com'],
        gateways: ['istio-system/egress-gw'],
        http: [http({ route: [to('aliyun.com', { subset: 'v1' })] })],
      },
      'team-dr',
    );
    const ds = only('TG1003', [aliyun, ext, gateway('egress-gw', [httpServer(80, ['aliyun.com'])]), vs]);
    assert.deepEqual(
      ds.map((d) => d.field),
      ['spec.http[0].route[0].destination.subset'],
    );
    assert.match(ds[0]?.message ?? '', /istio-system/);
  });

  it('near misses: a rule in the service or root namespace, clients outside exportTo or sourceNamespace', () => {
    const inServiceNs = destinationRule(
      'for-cnn',
      { host: GW_HOST, subsets: [{ name: 'cnn', labels: {} }] },
      'istio-system',
    );
    assert.deepEqual(
      only('TG1003', [aliyun, inServiceNs, meshRoute(), deployment('sleep', { app: 'sleep' }, 'team-a')]),
      [],
    );
    const local = destinationRule('for-cnn', { host: GW_HOST, subsets: [{ name: 'cnn', labels: {} }] });
    const scoped = virtualService('v', { ...meshRoute().spec, exportTo: ['.'] });
    assert.deepEqual(only('TG1003', [aliyun, local, scoped, deployment('sleep', { app: 'sleep' }, 'team-a')]), []);
    const fromDefault = meshRoute('default', { sourceNamespace: 'default' });
    assert.deepEqual(only('TG1003', [aliyun, local, fromDefault, deployment('sleep', { app: 'sleep' }, 'team-a')]), []);
  });

  it('a Kubernetes service in C with the DestinationRule beside it is visible to every client', () => {
    const svc = kubeService(
      'httpbin',
      { app: 'httpbin' },
      [{ name: 'http', port: 8000, targetPort: 80, protocol: 'TCP' }],
      'team-c',
    );
    const dr = destinationRule(
      'httpbin',
      { host: 'httpbin.team-c.svc.cluster.local', subsets: [{ name: 'v1', labels: { version: 'v1' } }] },
      'team-c',
    );
    const vs = virtualService(
      'v',
      {
        hosts: ['httpbin.team-c.svc.cluster.local'],
        http: [http({ route: [to('httpbin.team-c.svc.cluster.local', { subset: 'v1' })] })],
      },
      'team-a',
    );
    assert.deepEqual(run([svc, dr, vs, deployment('sleep', { app: 'sleep' }, 'team-b')]), []);
  });
});

describe('TG1009 SidecarScopeIsNotAFirewall', () => {
  const scoped = (extra: Partial<Parameters<typeof sidecarResource>[1]> = {}) =>
    sidecarResource('default', { egress: [{ hosts: ['./*', 'istio-system/*'] }], ...extra });

  it('egress hosts under the default ALLOW_ANY', () => {
    const ds = run([scoped()]);
    assert.deepEqual(
      ds.map((d) => [d.code, d.level, d.field]),
      [['TG1009', 'info', 'spec.egress[0].hosts']],
    );
    assert.match(ds[0]?.message ?? '', /ALLOW_ANY/);
  });

  it('egress hosts with the Sidecar itself setting ALLOW_ANY under a REGISTRY_ONLY mesh', () => {
    assert.deepEqual(
      only('TG1009', [registryOnly(), scoped({ outboundTrafficPolicy: { mode: 'ALLOW_ANY' } })]).length,
      1,
    );
  });

  it('near misses: REGISTRY_ONLY from the mesh or the Sidecar', () => {
    assert.deepEqual(only('TG1009', [registryOnly(), scoped()]), []);
    assert.deepEqual(only('TG1009', [scoped({ outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } })]), []);
  });
});
