import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { RetryPolicy, Route } from '../proxy-config/types.js';
import {
  cluster,
  clusterRoute,
  send,
  sendRaw as raw,
  sidecarConfig,
  startPlane,
  startUpstream,
  vhost,
} from './testing/fixtures.js';
import { refusedPort } from '../../test/helpers/refused-port.js';

function oneHost(route: Route, clusters = [cluster('c', 'STATIC', [])]) {
  return sidecarConfig({
    routeConfigs: [{ name: '80', virtualHosts: [vhost('svc.test:80', ['svc.test'], [route])] }],
    clusters,
  });
}

function retry(retryOn: string[], numRetries = 2, retriableStatusCodes: number[] = []): RetryPolicy {
  return { numRetries, retryOn, retriableStatusCodes, backoffBaseMs: 1 };
}

describe('local replies for failures', () => {
  it('503 NC when the route names a cluster the config lacks', async () => {
    const h = await startPlane(oneHost(clusterRoute('r', 'outbound|80||missing.test')));
    try {
      const reply = await send(h.port(), 'http://svc.test/');
      assert.equal(reply.status, 503);
      assert.equal(reply.body, '');
      await h.waitForLogs(1);
      assert.equal(h.logs[0]!.record.response_flags, 'NC');
      assert.equal(h.logs[0]!.record.response_code_details, 'cluster_not_found');
    } finally {
      await h.close();
    }
  });

  it('503 UH for a cluster without endpoints and for DNS answers that resolve nothing', async () => {
    const h = await startPlane(
      oneHost(clusterRoute('r', 'c'), [cluster('c', 'STRICT_DNS', [{ address: 'nowhere.test', port: 80 }])]),
    );
    try {
      const reply = await send(h.port(), 'http://svc.test/');
      assert.equal(reply.status, 503);
      assert.equal(reply.body, 'no healthy upstream');
      await h.waitForLogs(1);
      assert.equal(h.logs[0]!.record.response_flags, 'UH');
      assert.equal(h.logs[0]!.record.response_code_details, 'no_healthy_upstream');
      assert.equal(h.logs[0]!.record.upstream_cluster, 'c');
      assert.ok(h.warnings.some((w) => w.includes('nowhere.test')));
    } finally {
      await h.close();
    }
  });

  it('503 UF on a refused port, UF,URX once retries are exhausted', async () => {
    const port = await refusedPort();
    const clusters = [cluster('c', 'STATIC', [{ address: '127.0.0.1', port }])];
    const h = await startPlane(oneHost(clusterRoute('r', 'c'), clusters));
    try {
      const reply = await send(h.port(), 'http://svc.test/');
      assert.equal(reply.status, 503);
      assert.equal(
        reply.body,
        'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
      );
      await h.waitForLogs(1);
      assert.equal(h.logs[0]!.record.response_flags, 'UF');
      assert.equal(
        h.logs[0]!.record.response_code_details,
        'upstream_reset_before_response_started{connection_failure}',
      );
      assert.equal(h.logs[0]!.record.upstream_host, `127.0.0.1:${port}`);

      const withRetries = {
        ...clusterRoute('r', 'c'),
        action: {
          kind: 'cluster' as const,
          clusters: [{ cluster: 'c', weight: 1 }],
          retry: retry(['connect-failure']),
        },
      };
      assert.deepEqual(await h.plane.apply(oneHost(withRetries, clusters)), { ok: true });
      const again = await send(h.port(), 'http://svc.test/');
      assert.equal(again.status, 503);
      await h.waitForLogs(2);
      assert.equal(h.logs[1]!.record.response_flags, 'UF,URX');
    } finally {
      await h.close();
    }
  });

  it('retries a server that accepts then resets, counting every attempt', async () => {
    let connections = 0;
    const resetter = createServer((socket) => {
      connections++;
      socket.once('data', () => socket.resetAndDestroy());
    });
    await new Promise<void>((r) => resetter.listen(0, '127.0.0.1', r));
    const port = (resetter.address() as AddressInfo).port;
    const route: Route = {
      name: 'r',
      match: { headers: [], queryParams: [] },
      action: { kind: 'cluster', clusters: [{ cluster: 'c', weight: 1 }], retry: retry(['5xx'], 3) },
    };
    const h = await startPlane(oneHost(route, [cluster('c', 'STATIC', [{ address: '127.0.0.1', port }])]));
    try {
      const reply = await send(h.port(), 'http://svc.test/');
      assert.equal(reply.status, 503);
      assert.equal(connections, 4);
      await h.waitForLogs(1);
      assert.equal(h.logs[0]!.record.response_flags, 'UC,URX');
      assert.equal(
        h.logs[0]!.record.response_code_details,
        'upstream_reset_before_response_started{connection_termination}',
      );
    } finally {
      await h.close();
      resetter.close();
    }
  });

  it('retries retriable status codes and returns the first good answer', async () => {
    let calls = 0;
    const upstream = await startUpstream((_req, res) => {
      calls++;
      res.statusCode = calls < 3 ? 503 : 200;
      res.end(`call ${calls}`);
    });
    const route: Route = {
      name: 'r',
      match: { headers: [], queryParams: [] },
      action: {
        kind: 'cluster',
        clusters: [{ cluster: 'c', weight: 1 }],
        retry: retry(['retriable-status-codes'], 2, [503]),
      },
    };
    const h = await startPlane(
      oneHost(route, [cluster('c', 'STATIC', [{ address: '127.0.0.1', port: upstream.port }])]),
    );
    try {
      const reply = await send(h.port(), 'http://svc.test/');
      assert.equal(reply.status, 200);
      assert.equal(reply.body, 'call 3');
      await h.waitForLogs(1);
      assert.equal(h.logs[0]!.record.response_flags, '-');
    } finally {
      await h.close();
      await upstream.close();
    }
  });

  it('504 UT when the upstream is slower than the route timeout', async () => {
    const upstream = await startUpstream((_req, res) => {
      setTimeout(() => res.end('late'), 400);
    });
    const route: Route = {
      name: 'r',
      match: { headers: [], queryParams: [] },
      action: { kind: 'cluster', clusters: [{ cluster: 'c', weight: 1 }], timeoutMs: 50 },
    };
    const h = await startPlane(
      oneHost(route, [cluster('c', 'STATIC', [{ address: '127.0.0.1', port: upstream.port }])]),
    );
    try {
      const reply = await send(h.port(), 'http://svc.test/');
      assert.equal(reply.status, 504);
      assert.equal(reply.body, 'upstream request timeout');
      await h.waitForLogs(1);
      assert.equal(h.logs[0]!.record.response_flags, 'UT');
      assert.equal(h.logs[0]!.record.response_code_details, 'response_timeout');
    } finally {
      await h.close();
      await upstream.close();
    }
  });

  it('503 UO when the circuit breaker is full', async () => {
    const upstream = await startUpstream((_req, res) => {
      setTimeout(() => res.end('ok'), 100);
    });
    const clusters = [
      cluster('c', 'STATIC', [{ address: '127.0.0.1', port: upstream.port }], { circuitBreakers: { maxRequests: 1 } }),
    ];
    const h = await startPlane(oneHost(clusterRoute('r', 'c'), clusters));
    try {
      const replies = await Promise.all([send(h.port(), 'http://svc.test/'), send(h.port(), 'http://svc.test/')]);
      assert.deepEqual(replies.map((r) => r.status).sort(), [200, 503]);
      await h.waitForLogs(2);
      const uo = h.logs.find((l) => l.record.response_code === 503)!;
      assert.equal(uo.record.response_flags, 'UO');
      assert.equal(uo.record.response_code_details, 'upstream_reset_before_response_started{overflow}');
    } finally {
      await h.close();
      await upstream.close();
    }
  });

  it('resets the client when the upstream dies mid-response (UC)', async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const h = await startPlane(
      oneHost(clusterRoute('r', 'c'), [cluster('c', 'STATIC', [{ address: '127.0.0.1', port: upstream.port }])]),
    );
    try {
      await assert.rejects(send(h.port(), 'http://svc.test/'));
      await h.waitForLogs(1);
      assert.equal(h.logs[0]!.record.response_code, 200);
      assert.equal(h.logs[0]!.record.response_flags, 'UC');
      assert.equal(
        h.logs[0]!.record.response_code_details,
        'upstream_reset_after_response_started{connection_termination}',
      );
    } finally {
      await h.close();
      await upstream.close();
    }
  });
});

describe('requests that never reach the router', () => {
  it('answers malformed requests 400 DPE and logs them', async () => {
    const h = await startPlane(sidecarConfig());
    try {
      const answer = await raw(h.port(), 'GARBAGE\r\n\r\n');
      assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
      await h.waitForLogs(1);
      assert.equal(h.logs[0]!.record.response_code, 400);
      assert.equal(h.logs[0]!.record.response_flags, 'DPE');
      assert.equal(h.logs[0]!.record.response_code_details, 'http1.codec_error');
    } finally {
      await h.close();
    }
  });
});
