import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyResource } from '../../model/index.js';
import { buildSnapshot } from '../build.js';
import {
  http,
  l4Match,
  match,
  port,
  serviceEntry,
  tcpRoute,
  tlsMatch,
  tlsRoute,
  to,
  virtualService,
} from '../testing/fixtures.js';
import { analyze } from './index.js';

const run = (resources: AnyResource[]) => analyze(buildSnapshot({ version: 'v1', resources, instances: [] }));
const codes = (resources: AnyResource[]) => run(resources).map((d) => [d.code, d.field]);
const GW_HOST = 'istio-egressgateway.istio-system.svc.cluster.local';
const aliyun = serviceEntry('aliyun', { hosts: ['aliyun.com'], ports: [port(80, 'HTTP', 'http')] });
const secure = serviceEntry('secure', { hosts: ['secure.example.com'], ports: [port(443, 'TLS', 'tls')] });
const db = serviceEntry('db', { hosts: ['db.example.com'], addresses: ['10.0.0.5'], ports: [port(5432, 'TCP', 'pg')] });
const meshVs = (name: string, extra: Parameters<typeof virtualService>[1], ns = 'default') =>
  virtualService(name, { http: [http({ route: [to('aliyun.com')] })], ...extra }, ns);

describe('IST0109 ConflictingMeshGatewayVirtualServiceHosts', () => {
  it('two mesh VirtualServices exported everywhere with the same host: both reported, at the host', () => {
    const ds = run([
      aliyun,
      meshVs('a', { hosts: ['aliyun.com'] }),
      meshVs('b', { hosts: ['www.aliyun.com', 'aliyun.com'] }),
    ]);
    assert.deepEqual(
      ds.map((d) => [d.code, d.level, d.resource?.name, d.field]),
      [
        ['IST0109', 'error', 'a', 'spec.hosts[0]'],
        ['IST0109', 'error', 'b', 'spec.hosts[1]'],
      ],
    );
    assert.match(ds[0]?.message ?? '', /default\/a, default\/b/);
    assert.ok(ds[0]?.hint);
  });

  it('a namespace-scoped claim conflicts with an everywhere claim whose host covers it', () => {
    const scoped = meshVs('a', { hosts: ['aliyun.com'], exportTo: ['.'] });
    const wide = meshVs('b', { hosts: ['*.com'] }, 'team-b');
    assert.deepEqual(
      run([aliyun, scoped, wide]).map((d) => [d.code, d.resource?.name]),
      [
        ['IST0109', 'a'],
        ['IST0109', 'b'],
      ],
    );
  });

  it('near misses: one bound to a gateway only, disjoint export scopes, different hosts', () => {
    const gwOnly = virtualService('g', {
      hosts: ['aliyun.com'],
      gateways: ['istio-system/egress-gw'],
      http: [http({ route: [to('aliyun.com')] })],
    });
    const a = meshVs('a', { hosts: ['aliyun.com'], exportTo: ['.'] });
    const b = meshVs('b', { hosts: ['aliyun.com'], exportTo: ['.'] }, 'team-b');
    const c = meshVs('c', { hosts: ['www.aliyun.com'] });
    const ds = run([aliyun, a, b, c, gwOnly]).filter((d) => d.code === 'IST0109');
    assert.deepEqual(ds, []);
  });
});

describe('IST0130 VirtualServiceUnreachableRule / IST0131 VirtualServiceIneffectiveMatch', () => {
  it('an http rule after a catch-all is never used', () => {
    const vs = meshVs('v', {
      hosts: ['aliyun.com'],
      http: [
        http({ route: [to('aliyun.com')] }),
        http({ match: [match({ uri: { kind: 'prefix', value: '/a' } })], route: [to('aliyun.com')] }),
      ],
    });
    const ds = run([aliyun, vs]);
    assert.deepEqual(
      ds.map((d) => [d.code, d.level, d.field]),
      [['IST0130', 'warning', 'spec.http[1]']],
    );
    assert.match(ds[0]?.message ?? '', /#0/);
  });

  it('two rules without matches: the second is never used', () => {
    const vs = meshVs('v', {
      hosts: ['aliyun.com'],
      http: [http({ route: [to('aliyun.com')] }), http({ name: 'other', route: [to('aliyun.com')] })],
    });
    const ds = run([aliyun, vs]);
    assert.deepEqual(
      ds.map((d) => [d.code, d.field]),
      [['IST0130', 'spec.http[1]']],
    );
    assert.match(ds[0]?.message ?? '', /"other"/);
  });

  it('a repeated match is ineffective; a rule whose every match repeats is unreachable (names and key order ignored)', () => {
    const a = match({
      name: 'first',
      headers: { 'x-a': { kind: 'exact', value: '1' }, 'x-b': { kind: 'exact', value: '2' } },
    });
    const same = match({
      name: 'again',
      headers: { 'x-b': { kind: 'exact', value: '2' }, 'x-a': { kind: 'exact', value: '1' } },
    });
    const other = match({ uri: { kind: 'prefix', value: '/other' } });
    const vs = meshVs('v', {
      hosts: ['aliyun.com'],
      http: [
        http({ match: [a], route: [to('aliyun.com')] }),
        http({ match: [same, other], route: [to('aliyun.com')] }),
        http({ match: [same], route: [to('aliyun.com')] }),
      ],
    });
    assert.deepEqual(codes([aliyun, vs]), [
      ['IST0131', 'spec.http[1].match[0]'],
      ['IST0131', 'spec.http[2].match[0]'],
      ['IST0130', 'spec.http[2]'],
    ]);
    assert.equal(run([aliyun, vs]).find((d) => d.code === 'IST0131')?.level, 'info');
  });

  it('tls and tcp rules follow the same rules', () => {
    const tlsVs = virtualService('t', {
      hosts: ['secure.example.com'],
      tls: [
        tlsRoute([tlsMatch(['secure.example.com'], { port: 443 })], [to('secure.example.com')]),
        tlsRoute([tlsMatch(['secure.example.com'], { port: 443 })], [to('secure.example.com')]),
      ],
    });
    const tcpVs = virtualService('p', {
      hosts: ['db.example.com'],
      tcp: [tcpRoute([], [to('db.example.com')]), tcpRoute([l4Match({ port: 5432 })], [to('db.example.com')])],
    });
    assert.deepEqual(codes([secure, db, tlsVs, tcpVs]), [
      ['IST0130', 'spec.tcp[1]'],
      ['IST0131', 'spec.tls[1].match[0]'],
      ['IST0130', 'spec.tls[1]'],
    ]);
  });

  it('near miss: the walkthrough rules differ only in gateways, and a catch-all last is fine', () => {
    const vs = virtualService('v', {
      hosts: ['aliyun.com'],
      gateways: ['mesh'],
      http: [
        http({ match: [match({ gateways: ['mesh'], port: 80 })], route: [to('aliyun.com')] }),
        http({ match: [match({ gateways: ['mesh'], port: 8080 })], route: [to('aliyun.com')] }),
        http({ route: [to('aliyun.com')] }),
      ],
    });
    assert.deepEqual(
      run([aliyun, vs]).filter((d) => d.code === 'IST0130' || d.code === 'IST0131'),
      [],
    );
  });
});

describe('TG1004 MeshRouteNeverMatches', () => {
  it('a mesh match.port that neither the host nor the destination is declared on', () => {
    const vs = virtualService('v', {
      hosts: ['aliyun.com'],
      gateways: ['mesh'],
      http: [http({ match: [match({ port: 8080 })], route: [to('aliyun.com', { port: 80 })] })],
    });
    const ds = run([aliyun, vs]);
    assert.deepEqual(
      ds.map((d) => [d.code, d.level, d.field]),
      [['TG1004', 'warning', 'spec.http[0].match[0].port']],
    );
    assert.match(ds[0]?.message ?? '', /8080/);
    assert.match(ds[0]?.hint ?? '', /80/);
  });

  it('tcp rules too', () => {
    const vs = virtualService('v', {
      hosts: ['db.example.com'],
      tcp: [tcpRoute([l4Match({ port: 3306 })], [to('db.example.com')])],
    });
    assert.deepEqual(codes([db, vs]), [['TG1004', 'spec.tcp[0].match[0].port']]);
  });

  it('near misses: the declared port, a destination that has the port, a gateway-only match, an undeclared HTTP host on 80', () => {
    const declared = virtualService('a', {
      hosts: ['aliyun.com'],
      http: [http({ match: [match({ port: 80 })], route: [to(GW_HOST, { port: 80 })] })],
    });
    const viaDestination = virtualService('b', {
      hosts: ['www.aliyun.com'],
      http: [http({ match: [match({ port: 80 })], route: [to('aliyun.com')] })],
    });
    const gatewayOnly = virtualService('c', {
      hosts: ['aliyun.com'],
      gateways: ['mesh', 'istio-system/egress-gw'],
      http: [http({ match: [match({ gateways: ['istio-system/egress-gw'], port: 443 })], route: [to('aliyun.com')] })],
    });
    const ds = run([aliyun, declared, viaDestination, gatewayOnly]).filter((d) => d.code === 'TG1004');
    assert.deepEqual(ds, []);
  });
});
