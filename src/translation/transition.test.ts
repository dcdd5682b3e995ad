import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ProxyConfig, RouteConfig } from '../proxy-config/types.js';
import { transitionConfig } from './transition.js';

const routes = (name: string, domains: string[][]): RouteConfig => ({
  name,
  virtualHosts: domains.map((d) => ({ name: `${d[0]}:80`, domains: d, routes: [] })),
});

const config = (version: string, routeConfigs: RouteConfig[], clusters: string[]): ProxyConfig =>
  ({
    version,
    node: { id: 'x', type: 'router', name: 'gw', namespace: 'ns', ip: '127.0.0.1', labels: {}, serviceAccount: 'sa' },
    listeners: [],
    routeConfigs,
    clusters: clusters.map((name) => ({ name })),
    accessLog: { enabled: true, path: '/dev/stdout', encoding: 'JSON' },
  }) as unknown as ProxyConfig;

it("the transition serves the union: the new definitions, plus what only the old had, at the step's version", () => {
  const older = config(
    '4',
    [routes('http.80', [['a.com'], ['b.com', 'b2.com']])],
    ['outbound|80||a.com', 'outbound|80||b.com'],
  );
  const newer = config(
    '6',
    [routes('http.80', [['b.com'], ['c.com']]), routes('http.443', [['d.com']])],
    ['outbound|80||c.com', 'outbound|80||b.com'],
  );
  const t = transitionConfig(older, newer, '5');
  assert.equal(t.version, '5');
  assert.deepEqual(
    t.routeConfigs.map((rc) => [rc.name, rc.virtualHosts.map((v) => v.domains)]),
    [
      ['http.80', [['b.com'], ['c.com'], ['a.com'], ['b2.com']]],
      ['http.443', [['d.com']]],
    ],
  );
  assert.deepEqual(
    t.clusters.map((c) => c.name),
    ['outbound|80||c.com', 'outbound|80||b.com', 'outbound|80||a.com'],
  );
  assert.deepEqual(transitionConfig(newer, newer, '6').routeConfigs, newer.routeConfigs, 'no change: nothing added');
});
