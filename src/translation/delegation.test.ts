import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyResource } from '../model/index.js';
import { buildSnapshot } from '../snapshot/index.js';
import { http, match, port, serviceEntry, SLEEP, to, virtualService } from '../snapshot/testing/fixtures.js';
import { explainRequest, type RouteQuery } from '../dataplane/index.js';
import { translate } from './translate.js';

const se = (host: string) =>
  serviceEntry(host, { hosts: [host], ports: [port(80, 'HTTP', 'http')], resolution: 'DNS' });
const services = [
  se('shop.example.com'),
  se('b.example.com'),
  se('c.example.com'),
  serviceEntry('a', { hosts: ['a.team.svc.cluster.local'], ports: [port(80, 'HTTP', 'http')] }, 'team'),
];

function run(resources: AnyResource[], req: Partial<RouteQuery>) {
  const s = buildSnapshot({ version: 'v1', resources: [...services, ...resources], instances: [SLEEP] });
  return explainRequest(translate(SLEEP, s), { port: 80, host: 'shop.example.com', ...req });
}

function routesOf(resources: AnyResource[]) {
  const s = buildSnapshot({ version: 'v1', resources: [...services, ...resources], instances: [SLEEP] });
  const rc = translate(SLEEP, s).routeConfigs.find((r) => r.name === '80');
  return rc?.virtualHosts.find((v) => v.name === 'shop.example.com:80')?.routes ?? [];
}

const root = virtualService('root', {
  hosts: ['shop.example.com'],
  http: [
    http({
      name: 'api',
      match: [match({ name: 'm', uri: { kind: 'prefix', value: '/api' } })],
      delegate: { name: 'child', namespace: 'team' },
      timeoutMs: 4000,
    }),
    http({ name: 'rest', route: [to('c.example.com')] }),
  ],
});

const child = virtualService(
  'child',
  {
    hosts: [],
    http: [
      // Refines the root's /api prefix.
      http({
        name: 'v1',
        match: [
          match({ uri: { kind: 'prefix', value: '/api/v1' }, headers: { 'x-user': { kind: 'exact', value: 'a' } } }),
        ],
        route: [to('a')],
      }),
      // Conflicts with /api: dropped.
      http({
        name: 'other',
        match: [match({ uri: { kind: 'prefix', value: '/other' } })],
        route: [to('b.example.com')],
      }),
      // No match of its own: the root's.
      http({ name: 'all', route: [to('b.example.com')], timeoutMs: 1000 }),
    ],
  },
  'team',
);

describe('VirtualService delegation', () => {
  it("merges the root's match into each child rule and drops conflicting rules", () => {
    const routes = routesOf([root, child]);
    assert.deepEqual(
      routes.map((r) => r.name),
      ['api-v1.m', 'api-all.m', 'rest'],
    );
    const [v1, all] = routes;
    assert.deepEqual(v1?.match.path, { kind: 'prefix', value: '/api/v1' });
    assert.deepEqual(
      v1?.match.headers.map((h) => h.name),
      ['x-user'],
    );
    assert.deepEqual(all?.match.path, { kind: 'prefix', value: '/api' });
    // The child's own settings win; what it leaves unset comes from the root.
    assert.equal(v1?.action.kind === 'cluster' && v1.action.timeoutMs, 4000);
    assert.equal(all?.action.kind === 'cluster' && all.action.timeoutMs, 1000);
  });

  it("routes requests through the child's rules; short names resolve in the child's namespace", () => {
    const v1 = run([root, child], { path: '/api/v1/items', headers: { 'x-user': 'a' } });
    assert.equal(v1.cluster, 'outbound|80||a.team.svc.cluster.local');
    assert.equal(v1.outcome, 'forward');
    assert.equal(run([root, child], { path: '/api/v1/items' }).cluster, 'outbound|80||b.example.com');
    assert.equal(run([root, child], { path: '/other' }).cluster, 'outbound|80||c.example.com');
  });

  it('a missing or unexported delegate yields no routes for that rule', () => {
    assert.deepEqual(
      routesOf([root]).map((r) => r.name),
      ['rest'],
    );
    const hidden = virtualService('child', { ...child.spec, exportTo: ['.'] }, 'team');
    assert.deepEqual(
      routesOf([root, hidden]).map((r) => r.name),
      ['rest'],
    );
    assert.equal(run([root], { path: '/api/x' }).cluster, 'outbound|80||c.example.com');
  });

  it('a child with exact or regex matches: exact under a prefix refines, regex conflicts', () => {
    const c = virtualService(
      'child',
      {
        hosts: [],
        http: [
          http({
            name: 'exact',
            match: [match({ uri: { kind: 'exact', value: '/api/ping' } })],
            directResponse: { status: 204 },
          }),
          http({
            name: 'regex',
            match: [match({ uri: { kind: 'regex', value: '/api/.*' } })],
            directResponse: { status: 205 },
          }),
        ],
      },
      'team',
    );
    assert.deepEqual(
      routesOf([root, c]).map((r) => r.name),
      ['api-exact.m', 'rest'],
    );
    assert.equal(run([root, c], { path: '/api/ping' }).status, 204);
  });

  it('a child VirtualService has no hosts of its own and is used only through delegation', () => {
    const s = buildSnapshot({ version: 'v1', resources: [...services, child], instances: [SLEEP] });
    const cfg = translate(SLEEP, s);
    const names = cfg.routeConfigs.flatMap((rc) => rc.virtualHosts.flatMap((v) => v.routes.map((r) => r.name)));
    assert.ok(!names.includes('v1') && !names.includes('all'));
  });
});
