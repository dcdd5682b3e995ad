import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyResource } from '../model/index.js';
import type { NodeIdentity } from '../proxy-config/types.js';
import { buildSnapshot } from '../snapshot/index.js';
import {
  deployment,
  destinationRule,
  EGRESS_GW,
  http,
  istioOperator,
  kubeService,
  match,
  node,
  port,
  registryOnly,
  serviceEntry,
  sidecarResource,
  SLEEP,
  to,
  virtualService,
} from '../snapshot/testing/fixtures.js';
import { explainRequest, type RouteQuery } from '../dataplane/index.js';
import { translate } from './translate.js';

const OTHER = node('sidecar', 'other', 'team-b', '127.0.1.3', { app: 'other' });

/** `draw`: the weighted pick's random draw in [0, 1). */
function run(resources: AnyResource[], req: RouteQuery, who: NodeIdentity = SLEEP, draw = 0) {
  const s = buildSnapshot({ version: 'v1', resources, instances: [SLEEP, OTHER, EGRESS_GW] });
  return explainRequest(translate(who, s), req, () => draw);
}

const httpbin = serviceEntry('httpbin', {
  hosts: ['httpbin.org'],
  ports: [port(80, 'HTTP', 'http')],
  resolution: 'STATIC',
  endpoints: [
    { address: '127.0.9.1', ports: {}, labels: { version: 'v1' } },
    { address: '127.0.9.2', ports: { http: 8081 }, labels: { version: 'v2' } },
  ],
});

describe('sidecar routing', () => {
  it('weighted destinations split by weight', () => {
    const vs = virtualService('w', {
      hosts: ['httpbin.org'],
      http: [http({ route: [to('httpbin.org', { subset: 'v1' }, 80), to('httpbin.org', { subset: 'v2' }, 20)] })],
    });
    const dr = destinationRule('d', {
      host: 'httpbin.org',
      subsets: [
        { name: 'v1', labels: { version: 'v1' } },
        { name: 'v2', labels: { version: 'v2' } },
      ],
    });
    const low = run([httpbin, vs, dr], { port: 80, host: 'httpbin.org' }, SLEEP, 0.1);
    assert.equal(low.cluster, 'outbound|80|v1|httpbin.org');
    assert.deepEqual(low.upstream, { address: '127.0.9.1', port: 80 });
    const high = run([httpbin, vs, dr], { port: 80, host: 'httpbin.org' }, SLEEP, 0.85);
    assert.equal(high.cluster, 'outbound|80|v2|httpbin.org');
    assert.deepEqual(high.upstream, { address: '127.0.9.2', port: 8081 });
  });

  it('a subset from a DestinationRule not on the client lookup path answers 503 NC', () => {
    const vs = virtualService('s', {
      hosts: ['httpbin.org'],
      http: [http({ route: [to('httpbin.org', { subset: 'v1' })] })],
    });
    const drElsewhere = destinationRule(
      'd',
      { host: 'httpbin.org', subsets: [{ name: 'v1', labels: { version: 'v1' } }] },
      'team-b',
    );
    const r = run([httpbin, vs, drElsewhere], { port: 80, host: 'httpbin.org' });
    assert.equal(r.cluster, 'outbound|80|v1|httpbin.org');
    assert.equal(r.status, 503);
    assert.equal(r.responseFlags, 'NC');
    // The same rule in the root namespace is on the path.
    const drRoot = destinationRule(
      'd',
      { host: 'httpbin.org', subsets: [{ name: 'v1', labels: { version: 'v1' } }] },
      'istio-system',
    );
    assert.equal(run([httpbin, vs, drRoot], { port: 80, host: 'httpbin.org' }).outcome, 'forward');
  });

  it('first match wins: exact, prefix, regex, method and headers', () => {
    const vs = virtualService('m', {
      hosts: ['httpbin.org'],
      http: [
        http({
          name: 'exact',
          match: [match({ uri: { kind: 'exact', value: '/status/418' } })],
          directResponse: { status: 418 },
        }),
        http({
          name: 'post',
          match: [match({ name: 'm', method: { kind: 'exact', value: 'POST' } })],
          directResponse: { status: 405 },
        }),
        http({
          name: 'hdr',
          match: [match({ headers: { 'x-env': { kind: 'exact', value: 'dev' } } })],
          directResponse: { status: 299 },
        }),
        http({
          name: 'regex',
          match: [match({ uri: { kind: 'regex', value: '/v[0-9]+/.*' } })],
          directResponse: { status: 298 },
        }),
        http({
          name: 'prefix',
          match: [match({ uri: { kind: 'prefix', value: '/status' } })],
          directResponse: { status: 297 },
        }),
      ],
    });
    const at = (req: Partial<RouteQuery>) => run([httpbin, vs], { port: 80, host: 'httpbin.org', ...req });
    assert.equal(at({ path: '/status/418' }).status, 418);
    assert.equal(at({ path: '/status/418', method: 'POST' }).status, 418);
    const post = at({ path: '/x', method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.route, 'post.m');
    assert.equal(at({ path: '/x', headers: { 'x-env': 'dev' } }).status, 299);
    assert.equal(at({ path: '/v2/things' }).status, 298);
    assert.equal(at({ path: '/status/500?x=1' }).status, 297);
    const none = at({ path: '/other' });
    assert.equal(none.status, 404);
    assert.equal(none.responseFlags, 'NR');
  });

  it('drops rules after a catch-all and filters matches by port', () => {
    const vs = virtualService('c', {
      hosts: ['httpbin.org'],
      http: [
        http({ name: 'other-port', match: [match({ port: 8080 })], directResponse: { status: 201 } }),
        http({ name: 'all', directResponse: { status: 202 } }),
        http({
          name: 'unreachable',
          match: [match({ uri: { kind: 'prefix', value: '/x' } })],
          directResponse: { status: 203 },
        }),
      ],
    });
    const s = buildSnapshot({ version: 'v1', resources: [httpbin, vs], instances: [] });
    const rc = translate(SLEEP, s).routeConfigs.find((r) => r.name === '80');
    const vh = rc?.virtualHosts.find((v) => v.name === 'httpbin.org:80');
    assert.deepEqual(
      vh?.routes.map((r) => r.name),
      ['all'],
    );
  });

  it('applies the default retry policy, and attempts: 0 disables it', () => {
    const vs = virtualService('r', {
      hosts: ['httpbin.org'],
      http: [
        http({
          match: [match({ uri: { kind: 'prefix', value: '/none' } })],
          route: [to('httpbin.org')],
          retries: { attempts: 0 },
        }),
        http({ route: [to('httpbin.org')], timeoutMs: 3000 }),
      ],
    });
    const s = buildSnapshot({ version: 'v1', resources: [httpbin, vs], instances: [] });
    const routes = translate(SLEEP, s).routeConfigs.find((r) => r.name === '80')?.virtualHosts[0]?.routes ?? [];
    const [noRetry, dflt] = routes;
    assert.equal(noRetry?.action.kind === 'cluster' && noRetry.action.retry, undefined);
    assert.ok(dflt?.action.kind === 'cluster');
    assert.equal(dflt.action.timeoutMs, 3000);
    assert.equal(dflt.action.retry?.numRetries, 2);
    assert.deepEqual(dflt.action.retry?.retryOn, [
      'connect-failure',
      'refused-stream',
      'unavailable',
      'cancelled',
      'retriable-status-codes',
    ]);
  });

  it("exportTo '.' hides a ServiceEntry from other namespaces", () => {
    const se = serviceEntry('private', { hosts: ['private.example.com'], exportTo: ['.'] });
    const mine = run([registryOnly(), se], { port: 80, host: 'private.example.com' });
    assert.equal(mine.cluster, 'outbound|80||private.example.com');
    const theirs = run([registryOnly(), se], { port: 80, host: 'private.example.com' }, OTHER);
    assert.equal(theirs.route, 'block_all');
  });

  it("meshConfig.connectTimeout is every cluster's, unless a DestinationRule sets its own", () => {
    const timeouts = (resources: AnyResource[]) =>
      Object.fromEntries(
        translate(SLEEP, buildSnapshot({ version: 'v1', resources, instances: [SLEEP, EGRESS_GW] })).clusters.map(
          (c) => [c.name, c.connectTimeoutMs],
        ),
      );
    const mesh = istioOperator('mesh', { meshConfig: { connectTimeoutMs: 2_500 } });
    const dr = destinationRule('d', {
      host: 'httpbin.org',
      trafficPolicy: { connectionPool: { tcp: { connectTimeoutMs: 750 } }, portLevelSettings: [] },
    });
    assert.equal(timeouts([httpbin])['outbound|80||httpbin.org'], 10_000);
    const set = timeouts([mesh, httpbin]);
    assert.equal(set['outbound|80||httpbin.org'], 2_500);
    assert.equal(set.PassthroughCluster, 2_500);
    assert.equal(set.BlackHoleCluster, 2_500);
    assert.equal(timeouts([mesh, httpbin, dr])['outbound|80||httpbin.org'], 750);
  });

  it("meshConfig.defaultServiceExportTo '.' keeps a ServiceEntry without exportTo in its namespace", () => {
    const mesh = istioOperator('mesh', {
      meshConfig: { outboundTrafficPolicy: 'REGISTRY_ONLY', defaultServiceExportTo: ['.'] },
    });
    const se = serviceEntry('plain', { hosts: ['plain.example.com'] });
    const q = { port: 80, host: 'plain.example.com' };
    assert.equal(run([mesh, se], q).cluster, 'outbound|80||plain.example.com');
    assert.equal(run([mesh, se], q, OTHER).route, 'block_all');
    // Without the default, the same entry is everyone's; with exportTo of its own, the entry's wins.
    assert.equal(run([registryOnly(), se], q, OTHER).cluster, 'outbound|80||plain.example.com');
    const shared = serviceEntry('shared', { hosts: ['plain.example.com'], exportTo: ['*'] });
    assert.equal(run([mesh, shared], q, OTHER).cluster, 'outbound|80||plain.example.com');
    const toTeamB = istioOperator('mesh', {
      meshConfig: { outboundTrafficPolicy: 'REGISTRY_ONLY', defaultServiceExportTo: ['team-b'] },
    });
    assert.equal(run([toTeamB, se], q, OTHER).cluster, 'outbound|80||plain.example.com');
    assert.equal(run([toTeamB, se], q).route, 'block_all');
  });

  it("meshConfig.defaultVirtualServiceExportTo '.' applies a VirtualService without exportTo in its namespace only", () => {
    const mesh = istioOperator('mesh', { meshConfig: { defaultVirtualServiceExportTo: ['.'] } });
    const teapot = (exportTo: string[]) =>
      virtualService('teapot', { hosts: ['httpbin.org'], exportTo, http: [http({ directResponse: { status: 418 } })] });
    const q = { port: 80, host: 'httpbin.org' };
    assert.equal(run([mesh, httpbin, teapot([])], q).status, 418);
    assert.equal(run([mesh, httpbin, teapot([])], q, OTHER).cluster, 'outbound|80||httpbin.org');
    assert.equal(run([mesh, httpbin, teapot(['*'])], q, OTHER).status, 418);
    assert.equal(run([httpbin, teapot([])], q, OTHER).status, 418);
  });

  it("meshConfig.defaultDestinationRuleExportTo '.' keeps a DestinationRule without exportTo from other namespaces", () => {
    const mesh = istioOperator('mesh', { meshConfig: { defaultDestinationRuleExportTo: ['.'] } });
    const vs = virtualService(
      'v1',
      { hosts: ['httpbin.org'], http: [http({ route: [to('httpbin.org', { subset: 'v1' })] })] },
      'team-b',
    );
    const dr = (exportTo: string[]) =>
      destinationRule('d', { host: 'httpbin.org', exportTo, subsets: [{ name: 'v1', labels: { version: 'v1' } }] });
    const q = { port: 80, host: 'httpbin.org' };
    assert.equal(run([httpbin, vs, dr([])], q, OTHER).outcome, 'forward');
    const hidden = run([mesh, httpbin, vs, dr([])], q, OTHER);
    assert.equal(hidden.status, 503);
    assert.equal(hidden.responseFlags, 'NC');
    assert.equal(run([mesh, httpbin, vs, dr(['*'])], q, OTHER).outcome, 'forward');
  });

  it('a Sidecar resource overrides the mesh outbound policy for the workloads it selects', () => {
    const sc = sidecarResource('strict', {
      workloadSelector: { labels: { app: 'sleep' } },
      outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' },
    });
    assert.equal(run([sc], { port: 80, host: 'unknown.example' }).status, 502);
    assert.equal(run([sc], { port: 80, host: 'unknown.example' }, OTHER).route, 'allow_any');
    // A port without a route config takes the listener's default route.
    assert.equal(run([sc], { port: 9999, host: 'unknown.example' }).route, 'block_all');
  });

  it('Sidecar egress hosts scope what REGISTRY_ONLY lets through', () => {
    const a = serviceEntry('a', { hosts: ['a.example.com'] });
    const b = serviceEntry('b', { hosts: ['b.example.com'] });
    const sc = sidecarResource('scope', { egress: [{ hosts: ['./a.example.com', 'istio-system/*'] }] });
    assert.equal(
      run([registryOnly(), a, b, sc], { port: 80, host: 'a.example.com' }).cluster,
      'outbound|80||a.example.com',
    );
    assert.equal(run([registryOnly(), a, b, sc], { port: 80, host: 'b.example.com' }).route, 'block_all');
  });

  it('Kubernetes Services: named target ports, EDS endpoints from live instances, port-name protocol', () => {
    const dep = deployment('web', { app: 'web' }, 'default', {
      containers: [{ name: 'web', ports: [{ name: 'http-alt', containerPort: 9090, protocol: 'TCP' }] }],
    });
    const svc = kubeService('web', { app: 'web' }, [
      { name: 'http', port: 80, targetPort: 'http-alt', protocol: 'TCP' },
      { name: 'db', port: 5432, targetPort: 5432, protocol: 'TCP' },
    ]);
    const web = node('sidecar', 'web', 'default', '127.0.3.4', { app: 'web' });
    const s = buildSnapshot({ version: 'v1', resources: [dep, svc], instances: [SLEEP, web] });
    const cfg = translate(SLEEP, s);
    for (const host of ['web', 'web.default', 'web.default.svc.cluster.local']) {
      const r = explainRequest(cfg, { port: 80, host });
      assert.equal(r.cluster, 'outbound|80||web.default.svc.cluster.local', host);
      assert.deepEqual(r.upstream, { address: '127.0.3.4', port: 9090 });
    }
    assert.equal(
      cfg.routeConfigs.some((r) => r.name === '5432'),
      false,
    );
    assert.equal(cfg.clusters.find((c) => c.name === 'outbound|5432||web.default.svc.cluster.local')?.type, 'EDS');
  });

  it('a VirtualService for an unregistered host routes on port 80 only', () => {
    const vs = virtualService('u', { hosts: ['ghost.example.com'], http: [http({ directResponse: { status: 204 } })] });
    assert.equal(run([registryOnly(), vs], { port: 80, host: 'ghost.example.com' }).status, 204);
    assert.equal(run([registryOnly(), vs], { port: 8080, host: 'ghost.example.com' }).route, 'block_all');
  });

  it('DestinationRule policy reaches clusters; subset and port level override the top level', () => {
    const dr = destinationRule('p', {
      host: 'httpbin.org',
      trafficPolicy: {
        connectionPool: { tcp: { connectTimeoutMs: 2000, maxConnections: 10 } },
        loadBalancer: { kind: 'simple', simple: 'ROUND_ROBIN' },
        portLevelSettings: [{ port: 80, outlierDetection: { consecutive5xxErrors: 3 } }],
      },
      subsets: [
        {
          name: 'v1',
          labels: { version: 'v1' },
          trafficPolicy: { connectionPool: { tcp: { connectTimeoutMs: 500 } }, portLevelSettings: [] },
        },
      ],
    });
    const s = buildSnapshot({ version: 'v1', resources: [httpbin, dr], instances: [] });
    const clusters = translate(SLEEP, s).clusters;
    const base = clusters.find((c) => c.name === 'outbound|80||httpbin.org');
    const v1 = clusters.find((c) => c.name === 'outbound|80|v1|httpbin.org');
    assert.equal(base?.connectTimeoutMs, 2000);
    assert.equal(base?.lbPolicy, 'ROUND_ROBIN');
    assert.deepEqual(base?.circuitBreakers, { maxConnections: 10 });
    assert.equal(base?.outlierDetection?.consecutive5xx, 3);
    assert.equal(v1?.connectTimeoutMs, 500);
    assert.equal(v1?.lbPolicy, 'ROUND_ROBIN');
    assert.deepEqual(
      v1?.endpoints.map((e) => e.address),
      ['127.0.9.1'],
    );
    assert.equal(v1?.metadata.subset, 'v1');
  });
});
