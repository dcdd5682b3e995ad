import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyResource } from '../../model/index.js';
import { buildSnapshot } from '../build.js';
import { destinationRule, gateway, http, httpServer, match, port, serviceEntry, to, virtualService } from '../testing/fixtures.js';
import { analyze } from './index.js';

const run = (resources: AnyResource[]) => analyze(buildSnapshot({ version: 'v1', resources, instances: [] }));
const GW_HOST = 'istio-egressgateway.istio-system.svc.cluster.local';
const aliyun = serviceEntry('aliyun', { hosts: ['aliyun.com'], ports: [port(80, 'HTTP', 'http')] });
const egressGw = gateway('egress-gw', [httpServer(80, ['aliyun.com'])]);

describe('analyze', () => {
  it('the seed walkthrough configuration is clean', () => {
    const vs = virtualService('egressgateway-vs', {
      hosts: ['aliyun.com'],
      gateways: ['istio-system/egress-gw', 'mesh'],
      http: [
        http({ match: [match({ gateways: ['mesh'], port: 80 })], route: [to(GW_HOST, { port: 80 })] }),
        http({ match: [match({ gateways: ['istio-system/egress-gw'], port: 80 })], route: [to('aliyun.com', { port: 80 })] }),
      ],
    });
    assert.deepEqual(run([aliyun, egressGw, vs]), []);
  });

  it('IST0101: a gateway that does not exist, with the field position', () => {
    const pos = { file: 'vs.yaml', line: 9, col: 5 };
    const vs = { ...virtualService('v', { hosts: ['aliyun.com'], gateways: ['istio-system/nope', 'mesh'], http: [http({ route: [to('aliyun.com')] })] }), positions: new Map([['spec.gateways[0]', pos]]) };
    const [d, ...rest] = run([aliyun, vs]);
    assert.equal(rest.length, 0);
    assert.equal(d?.code, 'IST0101');
    assert.equal(d?.level, 'error');
    assert.equal(d?.field, 'spec.gateways[0]');
    assert.deepEqual(d?.position, pos);
    assert.deepEqual(d?.resource, { kind: 'VirtualService', namespace: 'default', name: 'v' });
    assert.ok(d?.hint);
  });

  it('IST0101: a destination host no service declares', () => {
    const vs = virtualService('v', { hosts: ['aliyun.com'], http: [http({ route: [to('aliyun.cn')] })] });
    const ds = run([aliyun, vs]);
    assert.deepEqual(ds.map((d) => [d.code, d.field]), [['IST0101', 'spec.http[0].route[0].destination.host']]);
  });

  it('IST0101: a subset no visible DestinationRule defines, naming the invisible one', () => {
    const vs = virtualService('v', { hosts: ['aliyun.com'], http: [http({ route: [to('aliyun.com', { subset: 'v1' })] })] });
    const hidden = destinationRule('d', { host: 'aliyun.com', subsets: [{ name: 'v1', labels: {} }] }, 'team-b');
    const [d] = run([aliyun, vs, hidden]);
    assert.equal(d?.code, 'IST0101');
    assert.equal(d?.field, 'spec.http[0].route[0].destination.subset');
    assert.match(d?.hint ?? '', /team-b\/d/);
    const visible = destinationRule('d', { host: 'aliyun.com', subsets: [{ name: 'v1', labels: {} }] });
    assert.deepEqual(run([aliyun, vs, visible]), []);
  });

  it('IST0101: a Gateway selector matching no gateway workload', () => {
    const ds = run([gateway('g', [httpServer(80, ['*'])], { istio: 'ingressgateway' })]);
    assert.deepEqual(ds.map((d) => [d.code, d.field]), [['IST0101', 'spec.selector']]);
  });

  it('IST0162: a Gateway port the gateway Service does not expose', () => {
    const ds = run([gateway('g', [httpServer(80, ['*']), httpServer(8081, ['*'])])]);
    assert.deepEqual(ds.map((d) => [d.code, d.level, d.field]), [['IST0162', 'warning', 'spec.servers[1].port.number']]);
  });

  it('IST0132: a bound Gateway with no host in common', () => {
    const vs = virtualService('v', { hosts: ['aliyun.com'], gateways: ['istio-system/g', 'mesh'], http: [http({ route: [to('aliyun.com')] })] });
    const ds = run([aliyun, gateway('g', [httpServer(80, ['example.com'])]), vs]);
    assert.deepEqual(ds.map((d) => d.code), ['IST0132']);
  });

  it('TG1001: bound to the gateway only, with no mesh rule for the host', () => {
    const vs = virtualService('v', { hosts: ['aliyun.com'], gateways: ['istio-system/egress-gw'], http: [http({ route: [to('aliyun.com')] })] });
    const ds = run([aliyun, egressGw, vs]);
    assert.deepEqual(ds.map((d) => [d.code, d.level]), [['TG1001', 'info']]);
    const meshVs = virtualService('m', { hosts: ['aliyun.com'], http: [http({ route: [to(GW_HOST, { port: 80 })] })] });
    assert.deepEqual(run([aliyun, egressGw, vs, meshVs]), []);
  });
});
