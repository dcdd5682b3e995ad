// The seed walkthrough, step by step, through the data plane's own router: configuration in, where a request goes out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyResource } from '../model/index.js';
import { buildSnapshot } from '../snapshot/index.js';
import {
  EGRESS_GW,
  gateway,
  http,
  httpServer,
  match,
  port,
  registryOnly,
  serviceEntry,
  SLEEP,
  to,
  virtualService,
} from '../snapshot/testing/fixtures.js';
import { explainRequest } from '../dataplane/index.js';
import { translate } from './translate.js';

const GW_HOST = 'istio-egressgateway.istio-system.svc.cluster.local';

function snapshot(resources: AnyResource[]) {
  return buildSnapshot({ version: 'v1', resources, instances: [SLEEP, EGRESS_GW] });
}

const aliyunSE = serviceEntry('aliyun', {
  hosts: ['aliyun.com'],
  ports: [port(80, 'HTTP', 'http')],
  resolution: 'DNS',
});
const egressGw = gateway('egress-gw', [httpServer(80, ['aliyun.com'])]);
const egressVs = virtualService('egressgateway-vs', {
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

describe('seed walkthrough', () => {
  it('ALLOW_ANY: an unknown host passes through', () => {
    const r = explainRequest(translate(SLEEP, snapshot([])), { port: 80, host: 'aliyun.com' });
    assert.equal(r.outcome, 'forward');
    assert.equal(r.route, 'allow_any');
    assert.equal(r.cluster, 'PassthroughCluster');
    assert.deepEqual(r.upstream, { address: 'aliyun.com', port: 80 });
  });

  it('REGISTRY_ONLY: an unknown host gets 502 from block_all', () => {
    const r = explainRequest(translate(SLEEP, snapshot([registryOnly()])), { port: 80, host: 'aliyun.com' });
    assert.equal(r.outcome, 'direct');
    assert.equal(r.route, 'block_all');
    assert.equal(r.status, 502);
    assert.equal(r.responseFlags, '-');
    assert.equal(r.details, 'direct_response');
  });

  it('REGISTRY_ONLY with a ServiceEntry: route default to outbound|80||aliyun.com, STRICT_DNS', () => {
    const cfg = translate(SLEEP, snapshot([registryOnly(), aliyunSE]));
    const r = explainRequest(cfg, { port: 80, host: 'aliyun.com' });
    assert.equal(r.virtualHost, 'aliyun.com:80');
    assert.equal(r.route, 'default');
    assert.equal(r.cluster, 'outbound|80||aliyun.com');
    assert.deepEqual(r.upstream, { address: 'aliyun.com', port: 80 });
    const c = cfg.clusters.find((x) => x.name === 'outbound|80||aliyun.com');
    assert.equal(c?.type, 'STRICT_DNS');
    assert.equal(c?.connectTimeoutMs, 10_000);
    assert.equal(c?.metadata.serviceName, 'aliyun.com');
    const route = cfg.routeConfigs.find((rc) => rc.name === '80')?.virtualHosts.find((v) => v.name === 'aliyun.com:80')
      ?.routes[0];
    assert.equal(
      route?.action.kind === 'cluster' && route.action.retry?.numRetries,
      2,
      "pilot's default retry policy on the default route",
    );
  });

  it('with the Gateway and VirtualService: the sidecar sends aliyun.com to the egress gateway', () => {
    const cfg = translate(SLEEP, snapshot([registryOnly(), aliyunSE, egressGw, egressVs]));
    const r = explainRequest(cfg, { port: 80, host: 'aliyun.com' });
    assert.equal(r.route, '');
    assert.equal(r.cluster, `outbound|80||${GW_HOST}`);
    assert.deepEqual(r.upstream, { address: EGRESS_GW.ip, port: 8080 });
    assert.equal(cfg.clusters.find((c) => c.name === `outbound|80||${GW_HOST}`)?.type, 'EDS');
  });

  it('the gateway listens on 8080 and routes aliyun.com to outbound|80||aliyun.com', () => {
    const cfg = translate(EGRESS_GW, snapshot([registryOnly(), aliyunSE, egressGw, egressVs]));
    assert.deepEqual(
      cfg.listeners.map((l) => l.name),
      ['0.0.0.0_8080'],
    );
    const r = explainRequest(cfg, { port: 8080, host: 'aliyun.com' });
    assert.equal(r.listener, '0.0.0.0_8080');
    assert.equal(r.routeConfig, 'http.80');
    assert.equal(r.virtualHost, 'aliyun.com:80');
    assert.equal(r.cluster, 'outbound|80||aliyun.com');
    assert.deepEqual(r.upstream, { address: 'aliyun.com', port: 80 });
    assert.deepEqual(cfg.accessLog, { enabled: true, path: '/dev/stdout', encoding: 'JSON' });
  });

  it('an unknown host at the gateway gets 404 NR', () => {
    const cfg = translate(EGRESS_GW, snapshot([aliyunSE, egressGw, egressVs]));
    const r = explainRequest(cfg, { port: 8080, host: 'example.org' });
    assert.equal(r.status, 404);
    assert.equal(r.responseFlags, 'NR');
    assert.equal(r.details, 'route_not_found');
  });

  it('a sidecar reaches the gateway service by its short mesh names', () => {
    const cfg = translate(SLEEP, snapshot([aliyunSE]));
    for (const host of [GW_HOST, 'istio-egressgateway.istio-system', 'istio-egressgateway.istio-system.svc']) {
      const r = explainRequest(cfg, { port: 80, host });
      assert.equal(r.cluster, `outbound|80||${GW_HOST}`, host);
    }
    // The bare name only resolves from the gateway's own namespace.
    assert.equal(explainRequest(cfg, { port: 80, host: 'istio-egressgateway' }).cluster, 'PassthroughCluster');
  });

  it('translation is deterministic', () => {
    const s = snapshot([registryOnly(), aliyunSE, egressGw, egressVs]);
    assert.deepEqual(translate(SLEEP, s), translate(SLEEP, s));
    assert.equal(JSON.stringify(translate(EGRESS_GW, s)), JSON.stringify(translate(EGRESS_GW, s)));
  });
});
