import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyResource } from '../../model/index.js';
import { buildSnapshot } from '../build.js';
import {
  EGRESS_GW,
  SLEEP,
  deployment,
  destinationRule,
  gateway,
  http,
  httpServer,
  kubeService,
  match,
  port,
  resource,
  serviceEntry,
  to,
  virtualService,
} from '../testing/fixtures.js';
import { analyze } from './index.js';

const run = (resources: AnyResource[]) =>
  analyze(buildSnapshot({ version: 'v1', resources, instances: [SLEEP, EGRESS_GW] }));
const codes = (resources: AnyResource[]) => run(resources).map((d) => [d.code, d.field]);
const GW_HOST = 'istio-egressgateway.istio-system.svc.cluster.local';
const aliyun = serviceEntry('aliyun', { hosts: ['aliyun.com'], ports: [port(80, 'HTTP', 'http')] });
const egressGw = gateway('egress-gw', [httpServer(80, ['aliyun.com'])]);

/** The walkthrough as examples/aliyun writes it: everything in namespace default. */
function walkthrough(): AnyResource[] {
  return [
    resource('ServiceAccount', 'sleep', 'default', {}),
    kubeService('sleep', { app: 'sleep' }, [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }]),
    deployment('sleep', { app: 'sleep' }),
    serviceEntry('external-svc-http', { hosts: ['aliyun.com'], ports: [port(80, 'HTTP', 'http')], resolution: 'DNS' }),
    gateway('egress-gw', [httpServer(80, ['aliyun.com'], 'http')], { istio: 'egressgateway' }, 'default'),
    virtualService('egressgateway-vs', {
      hosts: ['aliyun.com'],
      gateways: ['default/egress-gw', 'mesh'],
      http: [
        http({ match: [match({ gateways: ['mesh'], port: 80 })], route: [to(GW_HOST, { port: 80 })] }),
        http({
          match: [match({ gateways: ['default/egress-gw'], port: 80 })],
          route: [to('aliyun.com', { port: 80 })],
        }),
      ],
    }),
  ];
}

/** istio.io's "Egress Gateways" task, HTTP part. */
function cnnTask(clientNamespace = 'default'): AnyResource[] {
  return [
    deployment('sleep', { app: 'sleep' }, clientNamespace),
    serviceEntry('cnn', {
      hosts: ['edition.cnn.com'],
      ports: [port(80, 'HTTP', 'http-port'), port(443, 'HTTPS', 'https')],
      resolution: 'DNS',
    }),
    gateway(
      'istio-egressgateway',
      [httpServer(80, ['edition.cnn.com'], 'http')],
      { istio: 'egressgateway' },
      'default',
    ),
    destinationRule('egressgateway-for-cnn', { host: GW_HOST, subsets: [{ name: 'cnn', labels: {} }] }),
    virtualService('direct-cnn-through-egress-gateway', {
      hosts: ['edition.cnn.com'],
      gateways: ['default/istio-egressgateway', 'mesh'],
      http: [
        http({ match: [match({ gateways: ['mesh'], port: 80 })], route: [to(GW_HOST, { subset: 'cnn', port: 80 })] }),
        http({
          match: [match({ gateways: ['default/istio-egressgateway'], port: 80 })],
          route: [to('edition.cnn.com', { port: 80 }, 100)],
        }),
      ],
    }),
  ];
}

describe('analyze', () => {
  it('the seed walkthrough configuration is clean', () => {
    const vs = virtualService('egressgateway-vs', {
      hosts: ['aliyun.com'],
      gateways: ['istio-system/egress-gw', 'mesh'],
      http: [
        http({ match: [match({ gateways: ['mesh'], port: 80 })], route: [to(GW_HOST, { port: 80 })] }),
        http({
          match: [match({ gateways: ['istio-system/egress-gw'], port: 80 })],
          route: [to('aliyun.com', { port: 80 })],
        }),
      ],
    });
    assert.deepEqual(run([aliyun, egressGw, vs]), []);
  });

  it('the full walkthrough (sleep, ServiceEntry, Gateway, VirtualService) has no findings at all', () => {
    assert.deepEqual(run(walkthrough()), []);
  });

  it("istio.io's egress gateway task (edition.cnn.com through subset cnn) has no findings at all", () => {
    assert.deepEqual(run(cnnTask()), []);
  });

  it('the same task with the client in another namespace warns that subset cnn is out of its reach (TG1003)', () => {
    const ds = run(cnnTask('team-a'));
    assert.deepEqual(
      ds.map((d) => [d.code, d.level, d.field]),
      [['TG1003', 'warning', 'spec.http[0].route[0].destination.subset']],
    );
    assert.match(ds[0]?.message ?? '', /team-a/);
    assert.match(ds[0]?.message ?? '', /default\/egressgateway-for-cnn/);
  });

  it('IST0101: a gateway that does not exist, with the field position', () => {
    const pos = { file: 'vs.yaml', line: 9, col: 5 };
    const vs = {
      ...virtualService('v', {
        hosts: ['aliyun.com'],
        gateways: ['istio-system/nope', 'mesh'],
        http: [http({ route: [to('aliyun.com')] })],
      }),
      positions: new Map([['spec.gateways[0]', pos]]),
    };
    const [d, ...rest] = run([aliyun, vs]);
    assert.equal(rest.length, 0);
    assert.equal(d?.code, 'IST0101');
    assert.equal(d?.level, 'error');
    assert.equal(d?.field, 'spec.gateways[0]');
    assert.deepEqual(d?.position, pos);
    assert.deepEqual(d?.resource, { kind: 'VirtualService', namespace: 'default', name: 'v' });
    assert.ok(d?.hint);
  });

  it('a field that was not written points at its nearest written ancestor', () => {
    const pos = { file: 'vs.yaml', line: 12, col: 3 };
    const vs = {
      ...virtualService('v', { hosts: ['aliyun.com'], http: [http({ route: [to('aliyun.cn')] })] }),
      positions: new Map([['spec.http[0].route[0]', pos]]),
    };
    const [d] = run([aliyun, vs]);
    assert.equal(d?.field, 'spec.http[0].route[0].destination.host');
    assert.deepEqual(d?.position, pos);
  });

  it('IST0101: a destination host no service declares', () => {
    const vs = virtualService('v', { hosts: ['aliyun.com'], http: [http({ route: [to('aliyun.cn')] })] });
    assert.deepEqual(codes([aliyun, vs]), [['IST0101', 'spec.http[0].route[0].destination.host']]);
  });

  it('IST0101: a destination host declared but not exported to the route, named with who declares it', () => {
    const mesh = resource('IstioOperator', 'mesh', 'istio-system', {
      meshConfig: { defaultServiceExportTo: ['.'] },
      egressGateways: [],
    });
    const hidden = run([...walkthrough(), mesh]).find((d) => d.code === 'IST0101');
    assert.equal(hidden?.field, 'spec.http[0].route[0].destination.host');
    assert.match(
      hidden?.message ?? '',
      /is not exported to namespace default: the egress gateway's Service istio-system\/istio-egressgateway \(exportTo \["\."\]\)/,
    );
    assert.match(hidden?.hint ?? '', /meshConfig\.defaultServiceExportTo/);
    // A ServiceEntry of another namespace, private to it: named, with its own exportTo to change.
    const elsewhere = serviceEntry(
      'cn',
      { hosts: ['aliyun.cn'], ports: [port(80, 'HTTP', 'http')], exportTo: ['.'] },
      'team-b',
    );
    const vs = virtualService('v', { hosts: ['aliyun.com'], http: [http({ route: [to('aliyun.cn')] })] });
    const d = run([aliyun, elsewhere, vs]).find((x) => x.code === 'IST0101');
    assert.match(
      d?.message ?? '',
      /aliyun\.cn is not exported to namespace default: ServiceEntry team-b\/cn \(exportTo \["\."\]\)/,
    );
    assert.match(d?.hint ?? '', /its exportTo/);
    // Without the default, the walkthrough has no finding at all.
    assert.deepEqual(
      run(walkthrough()).filter((x) => x.level === 'error'),
      [],
    );
  });

  it('TG1018/TG1019: accessLogFormat checked with the encoding in force, on the IstioOperator whose format is in force', () => {
    const op = (name: string, meshConfig: Record<string, unknown>) =>
      resource('IstioOperator', name, 'istio-system', { meshConfig, egressGateways: [] });
    const found = (resources: AnyResource[]) =>
      run(resources)
        .filter((d) => d.code === 'TG1018' || d.code === 'TG1019')
        .map((d) => `${d.code} ${d.resource?.name} ${d.field}`);
    const text = '[%START_TIME%] %REQ(X-TENANT)% %RESPONSE_CODE%';
    // The mesh default encoding is JSON: a text format there is not a JSON object.
    assert.deepEqual(found([op('a', { accessLogFormat: text })]), ['TG1018 a spec.meshConfig.accessLogFormat']);
    // The encoding from another operator makes it valid.
    assert.deepEqual(found([op('a', { accessLogFormat: text }), op('b', { accessLogEncoding: 'TEXT' })]), []);
    // The later operator's format is the one in force and the one reported.
    assert.deepEqual(
      found([
        op('a', { accessLogEncoding: 'TEXT', accessLogFormat: '%NOPE%' }),
        op('b', { accessLogFormat: '%DOWNSTREAM_PEER_URI_SAN% %RESPONSE_CODE%' }),
      ]),
      ['TG1019 b spec.meshConfig.accessLogFormat'],
    );
    assert.deepEqual(found([]), []);
  });

  it('IST0101: a subset no DestinationRule anywhere defines; one in another namespace is TG1003 instead', () => {
    const vs = virtualService('v', {
      hosts: ['aliyun.com'],
      http: [http({ route: [to('aliyun.com', { subset: 'v1' })] })],
    });
    const [d] = run([aliyun, vs]);
    assert.equal(d?.code, 'IST0101');
    assert.equal(d?.field, 'spec.http[0].route[0].destination.subset');
    const hidden = destinationRule('d', { host: 'aliyun.com', subsets: [{ name: 'v1', labels: {} }] }, 'team-b');
    const [w, ...rest] = run([aliyun, vs, hidden]);
    assert.equal(rest.length, 0);
    assert.equal(w?.code, 'TG1003');
    assert.match(w?.message ?? '', /team-b\/d/);
    const visible = destinationRule('d', { host: 'aliyun.com', subsets: [{ name: 'v1', labels: {} }] });
    assert.deepEqual(run([aliyun, vs, visible]), []);
  });

  it('IST0101: a Gateway selector matching no gateway workload', () => {
    assert.deepEqual(codes([gateway('g', [httpServer(80, ['*'])], { istio: 'ingressgateway' })]), [
      ['IST0101', 'spec.selector'],
    ]);
  });

  it('IST0162: a Gateway port the gateway Service does not expose', () => {
    const vs = virtualService('v', {
      hosts: ['aliyun.com'],
      gateways: ['istio-system/g'],
      http: [http({ route: [to('aliyun.com')] })],
    });
    const ds = run([
      aliyun,
      gateway('g', [httpServer(80, ['aliyun.com']), httpServer(8081, ['aliyun.com'])]),
      vs,
    ]).filter((d) => d.code !== 'TG1001');
    assert.deepEqual(
      ds.map((d) => [d.code, d.level, d.field]),
      [['IST0162', 'warning', 'spec.servers[1].port.number']],
    );
  });

  it('IST0132: a bound Gateway with no host in common', () => {
    const vs = virtualService('v', {
      hosts: ['aliyun.com'],
      gateways: ['istio-system/g', 'mesh'],
      http: [http({ route: [to('aliyun.com')] })],
    });
    const ds = run([aliyun, gateway('g', [httpServer(80, ['example.com'])]), vs]);
    assert.deepEqual(
      ds.map((d) => d.code),
      ['TG1005', 'IST0132'],
    );
  });

  it('TG1001: bound to the gateway only, with no mesh rule for the host', () => {
    const vs = virtualService('v', {
      hosts: ['aliyun.com'],
      gateways: ['istio-system/egress-gw'],
      http: [http({ route: [to('aliyun.com')] })],
    });
    const ds = run([aliyun, egressGw, vs]);
    assert.deepEqual(
      ds.map((d) => [d.code, d.level]),
      [['TG1001', 'info']],
    );
    const meshVs = virtualService('m', { hosts: ['aliyun.com'], http: [http({ route: [to(GW_HOST, { port: 80 })] })] });
    assert.deepEqual(run([aliyun, egressGw, vs, meshVs]), []);
  });

  it('findings come sorted by file and line, whatever the analyzer', () => {
    const at = (file: string, line: number) => ({ file, line, col: 1 });
    const late = {
      ...virtualService('late', { hosts: ['aliyun.com'], http: [http({ route: [to('a.cn')] })] }),
      source: at('a.yaml', 40),
      positions: new Map([['spec.http[0].route[0].destination.host', at('a.yaml', 44)]]),
    };
    const early = {
      ...gateway('g', [httpServer(80, ['*'])], { istio: 'nothing' }),
      source: at('a.yaml', 1),
      positions: new Map([['spec.selector', at('a.yaml', 6)]]),
    };
    const other = {
      ...virtualService('first', { hosts: ['aliyun.com'], http: [http({ route: [to('b.cn')] })] }),
      source: at('0.yaml', 1),
    };
    const ds = run([aliyun, late, early, other]).filter((d) => d.code === 'IST0101');
    assert.deepEqual(
      ds.map((d) => [d.position?.file, d.position?.line]),
      [
        ['0.yaml', 1],
        ['a.yaml', 6],
        ['a.yaml', 44],
      ],
    );
  });
});
