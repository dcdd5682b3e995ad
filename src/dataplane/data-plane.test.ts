import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ACCESS_LOG_FIELDS } from '../observability/index.js';
import { parseConnectTo } from './connect-to.js';
import {
  blockAll,
  cluster,
  clusterRoute,
  fakeResolver,
  gatewayConfig,
  send,
  sidecarConfig,
  startPlane,
  startUpstream,
  testNode,
  vhost,
  type Upstream,
} from './testing/fixtures.js';

describe('sidecar explicit proxy', () => {
  let upstream: Upstream;
  before(async () => {
    upstream = await startUpstream((req, res) => {
      res.writeHead(301, { location: 'https://www.aliyun.com/', 'content-type': 'text/html' });
      res.end(req.method === 'HEAD' ? undefined : '<html>moved</html>');
    });
  });
  after(() => upstream.close());

  it('passes an unknown host through under allow_any (absolute-form, connect-to) and logs it', async () => {
    const h = await startPlane(sidecarConfig(), {
      connectTo: [parseConnectTo(`example.test:80:127.0.0.1:${upstream.port}`)],
    });
    try {
      const reply = await send(h.port(), 'http://example.test/some/path?q=1', {
        headers: { 'user-agent': 'curl/8.0', 'proxy-connection': 'keep-alive' },
      });
      assert.equal(reply.status, 301);
      assert.equal(reply.headers.location, 'https://www.aliyun.com/');
      assert.equal(reply.body, '<html>moved</html>');
      assert.match(String(reply.headers['x-envoy-upstream-service-time']), /^\d+$/);
      const seen = upstream.seen.at(-1)!;
      assert.equal(seen.url, '/some/path?q=1');
      assert.equal(seen.headers.host, 'example.test');
      assert.equal(seen.headers['proxy-connection'], undefined);
      assert.equal(seen.headers['x-forwarded-proto'], 'http');
      assert.match(String(seen.headers['x-request-id']), /^[0-9a-f-]{36}$/);

      await h.waitForLogs(1);
      const { line, record } = h.logs[0]!;
      const parsed = JSON.parse(line) as Record<string, unknown>;
      assert.deepEqual(Object.keys(parsed), [...ACCESS_LOG_FIELDS]);
      assert.equal(parsed.route_name, 'allow_any');
      assert.equal(parsed.method, 'GET');
      assert.equal(parsed.path, '/some/path?q=1');
      assert.equal(parsed.protocol, 'HTTP/1.1');
      assert.equal(parsed.response_code, 301);
      assert.equal(parsed.response_flags, '-');
      assert.equal(parsed.response_code_details, 'via_upstream');
      assert.equal(parsed.bytes_sent, '<html>moved</html>'.length);
      assert.equal(parsed.bytes_received, 0);
      assert.equal(typeof parsed.duration, 'number');
      assert.equal(parsed.upstream_service_time, reply.headers['x-envoy-upstream-service-time']);
      assert.equal(parsed.user_agent, 'curl/8.0');
      assert.equal(parsed.request_id, seen.headers['x-request-id']);
      assert.equal(parsed.authority, 'example.test');
      assert.equal(parsed.upstream_host, `127.0.0.1:${upstream.port}`);
      assert.equal(parsed.upstream_cluster, 'PassthroughCluster');
      assert.match(String(parsed.upstream_local_address), /^127\.0\.0\.1:\d+$/);
      assert.equal(parsed.downstream_local_address, `127.0.0.1:${h.port()}`);
      assert.match(String(parsed.downstream_remote_address), /^127\.0\.0\.1:\d+$/);
      assert.equal(parsed.requested_server_name, '-');
      assert.equal(parsed.x_forwarded_for, '-');
      assert.match(String(parsed.start_time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(record.upstream_cluster, 'PassthroughCluster');
    } finally {
      await h.close();
    }
  });

  it('keeps HEAD 301 responses intact, without a body', async () => {
    const h = await startPlane(sidecarConfig(), {
      resolver: fakeResolver({ 'aliyun.test': ['127.0.0.1'] }),
      connectTo: [parseConnectTo(`:80::${upstream.port}`)],
    });
    try {
      const reply = await send(h.port(), 'http://aliyun.test/', { method: 'HEAD' });
      assert.equal(reply.status, 301);
      assert.equal(reply.headers.location, 'https://www.aliyun.com/');
      assert.equal(reply.body, '');
    } finally {
      await h.close();
    }
  });

  it('never dials itself: a request addressed to its own listener goes to BlackHoleCluster, once', async () => {
    const h = await startPlane(sidecarConfig());
    try {
      const self = `127.0.0.1:${h.port()}`;
      const reply = await send(h.port(), `http://${self}/`);
      assert.equal(reply.status, 503);
      assert.match(reply.body, /request loop/);
      await h.waitForLogs(1);
      // A request forwarded to itself would have completed, and logged, before the one that sent it.
      assert.equal(h.logs.length, 1, 'exactly one request: nothing was forwarded to itself');
      const parsed = JSON.parse(h.logs[0]!.line) as Record<string, unknown>;
      assert.equal(parsed.response_flags, 'UH');
      assert.equal(parsed.response_code_details, 'request_loop_to_this_proxy');
      assert.equal(parsed.upstream_cluster, 'BlackHoleCluster');
      assert.equal(parsed.route_name, 'allow_any');
    } finally {
      await h.close();
    }
  });

  it('answers block_all with an empty 502 and logs it like Istio', async () => {
    const h = await startPlane(sidecarConfig({ defaultRoute: blockAll }));
    try {
      const reply = await send(h.port(), 'http://example.test/');
      assert.equal(reply.status, 502);
      assert.equal(reply.body, '');
      await h.waitForLogs(1);
      const parsed = JSON.parse(h.logs[0]!.line) as Record<string, unknown>;
      assert.deepEqual(Object.keys(parsed), [...ACCESS_LOG_FIELDS]);
      assert.equal(parsed.route_name, 'block_all');
      assert.equal(parsed.response_code, 502);
      assert.equal(parsed.response_flags, '-');
      assert.equal(parsed.response_code_details, 'direct_response');
      assert.equal(parsed.upstream_cluster, '-');
      assert.equal(parsed.upstream_host, '-');
      assert.equal(parsed.bytes_sent, 0);
      assert.equal(parsed.authority, 'example.test');
    } finally {
      await h.close();
    }
  });

  it('writes TEXT lines in Istio order, and nothing when the access log is off', async () => {
    const h = await startPlane(sidecarConfig({ defaultRoute: blockAll, encoding: 'TEXT' }), {
      now: () => Date.UTC(2024, 0, 2, 3, 4, 5, 678),
    });
    try {
      await send(h.port(), 'http://example.test/x', { headers: { 'user-agent': 'ua', 'x-request-id': 'rid' } });
      await h.waitForLogs(1);
      const port = h.port();
      assert.match(
        h.logs[0]!.line,
        new RegExp(
          String.raw`^\[2024-01-02T03:04:05\.678Z\] "GET /x HTTP/1\.1" 502 - direct_response - "-" 0 0 0 - "-" "ua" "rid" ` +
            String.raw`"example\.test" "-" - - 127\.0\.0\.1:${port} 127\.0\.0\.1:\d+ - block_all$`,
        ),
      );
      const off = await h.plane.apply(sidecarConfig({ defaultRoute: blockAll, logEnabled: false, version: 'v2' }));
      assert.deepEqual(off, { ok: true });
      await send(h.port(), 'http://example.test/x');
      // Logging back on: the next request's line follows the first directly, so the one between wrote none.
      assert.deepEqual(await h.plane.apply(sidecarConfig({ defaultRoute: blockAll, version: 'v3' })), { ok: true });
      await send(h.port(), 'http://example.test/y');
      await h.waitForLogs(2);
      assert.deepEqual(
        h.logs.map((l) => l.record.path),
        ['/x', '/y'],
      );
    } finally {
      await h.close();
    }
  });

  it('routes origin-form requests by Host through the port route config to a STRICT_DNS cluster', async () => {
    const resolver = fakeResolver({ 'svc.test': ['127.0.0.1'] });
    const config = sidecarConfig({
      routeConfigs: [
        {
          name: String(upstream.port),
          virtualHosts: [
            vhost(`svc.test:${upstream.port}`, ['svc.test'], [clusterRoute('default', 'outbound|x||svc.test')]),
          ],
        },
      ],
      clusters: [cluster('outbound|x||svc.test', 'STRICT_DNS', [{ address: 'svc.test', port: upstream.port }])],
    });
    const h = await startPlane(config, { resolver });
    try {
      const reply = await send(h.port(), '/hello', { headers: { host: `SVC.test:${upstream.port}` } });
      assert.equal(reply.status, 301);
      assert.deepEqual(resolver.lookups, ['svc.test']);
      await h.waitForLogs(1);
      assert.equal(h.logs[0]!.record.route_name, 'default');
      assert.equal(h.logs[0]!.record.upstream_cluster, 'outbound|x||svc.test');
    } finally {
      await h.close();
    }
  });

  it('dials EDS endpoints from the node address', async () => {
    const config = sidecarConfig(
      {
        routeConfigs: [
          { name: '80', virtualHosts: [vhost('eds.test:80', ['eds.test'], [clusterRoute('default', 'eds')])] },
        ],
        clusters: [cluster('eds', 'EDS', [{ address: '127.0.0.1', port: upstream.port }])],
      },
      testNode('127.0.0.2'),
    );
    const h = await startPlane(config, {}, testNode('127.0.0.2'));
    try {
      const reply = await send(h.port(), 'http://eds.test/');
      assert.equal(reply.status, 301);
      assert.equal(upstream.seen.at(-1)!.remoteAddress, '127.0.0.2');
      await h.waitForLogs(1);
      assert.match(String(h.logs[0]!.record.upstream_local_address), /^127\.0\.0\.2:\d+$/);
    } finally {
      await h.close();
    }
  });
});

describe('gateway listener', () => {
  it('routes by Host through its fixed route config, appends the client to XFF, and 404s unknown hosts', async () => {
    const upstream = await startUpstream();
    const config = gatewayConfig({
      routeConfigs: [
        {
          name: 'http.80',
          virtualHosts: [vhost('aliyun.com:80', ['aliyun.com'], [clusterRoute('egress', 'outbound|80||aliyun.com')])],
        },
      ],
      clusters: [cluster('outbound|80||aliyun.com', 'STRICT_DNS', [{ address: 'aliyun.com', port: 80 }])],
    });
    const h = await startPlane(config, {
      resolver: fakeResolver({ 'aliyun.com': ['127.0.0.1'] }),
      connectTo: [parseConnectTo(`aliyun.com:80:127.0.0.1:${upstream.port}`)],
    });
    try {
      const ok = await send(h.port(), '/', { headers: { host: 'aliyun.com' } });
      assert.equal(ok.status, 200);
      assert.equal(ok.body, 'hello');
      assert.equal(upstream.seen.at(-1)!.headers['x-forwarded-for'], '127.0.0.1');
      const nr = await send(h.port(), '/', { headers: { host: 'unknown.example' } });
      assert.equal(nr.status, 404);
      assert.equal(nr.body, '');
      await h.waitForLogs(2);
      const r = h.logs[1]!.record;
      assert.equal(r.response_flags, 'NR');
      assert.equal(r.response_code_details, 'route_not_found');
      assert.equal(h.logs[0]!.record.x_forwarded_for, '127.0.0.1');
    } finally {
      await h.close();
      await upstream.close();
    }
  });
});

describe('sidecar to egress gateway', () => {
  it('carries the workload address to the gateway log and dials the external host from the gateway', async () => {
    const external = await startUpstream((_req, res) => {
      res.writeHead(301, { location: 'https://www.aliyun.com/' });
      res.end();
    });
    const gateway = await startPlane(
      gatewayConfig({
        routeConfigs: [
          {
            name: 'http.80',
            virtualHosts: [vhost('aliyun.com:80', ['aliyun.com'], [clusterRoute('gw', 'outbound|80||aliyun.com')])],
          },
        ],
        clusters: [cluster('outbound|80||aliyun.com', 'STRICT_DNS', [{ address: 'aliyun.com', port: 80 }])],
      }),
      {
        resolver: fakeResolver({ 'aliyun.com': ['127.0.0.1'] }),
        connectTo: [parseConnectTo(`aliyun.com:80:127.0.0.1:${external.port}`)],
      },
    );
    const gwCluster = 'outbound|80|cnn|istio-egressgateway.istio-system.svc.cluster.local';
    const sleep = testNode('127.0.0.2');
    const sidecar = await startPlane(
      sidecarConfig(
        {
          address: '127.0.0.2',
          routeConfigs: [
            { name: '80', virtualHosts: [vhost('aliyun.com:80', ['aliyun.com'], [clusterRoute('mesh', gwCluster)])] },
          ],
          clusters: [cluster(gwCluster, 'EDS', [{ address: '127.0.0.1', port: gateway.port() }])],
        },
        sleep,
      ),
      {},
      sleep,
    );
    try {
      const reply = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.2', port: sidecar.port(), path: 'http://aliyun.com/', method: 'HEAD', agent: false },
          (res) => {
            res.resume();
            resolve({ status: res.statusCode ?? 0, location: res.headers.location });
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.deepEqual(reply, { status: 301, location: 'https://www.aliyun.com/' });
      await gateway.waitForLogs(1);
      await sidecar.waitForLogs(1);
      const gw = gateway.logs[0]!.record;
      assert.match(String(gw.downstream_remote_address), /^127\.0\.0\.2:\d+$/);
      assert.equal(gw.upstream_cluster, 'outbound|80||aliyun.com');
      assert.equal(gw.route_name, 'gw');
      assert.equal(gw.request_id, sidecar.logs[0]!.record.request_id);
      assert.equal(sidecar.logs[0]!.record.upstream_cluster, gwCluster);
    } finally {
      await sidecar.close();
      await gateway.close();
      await external.close();
    }
  });
});
