// The cluster action's paths other than "one attempt, one answer": a per-try timeout retried elsewhere, a client
// that goes away while an attempt waits, during a back-off and in the middle of the body. Each ends its request once
// (one access-log line), leaves no upstream exchange behind, and gives its circuit-breaker slot back.
import assert from 'node:assert/strict';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import type { RetryPolicy, Route } from '../proxy-config/types.js';
import { cluster, send, sidecarConfig, startPlane, vhost } from './testing/fixtures.js';

/** An upstream that answers (or not) as `answer` says, and counts the connections it has open. */
async function upstream(answer: (socket: Socket, request: string) => void): Promise<{
  server: Server;
  port: number;
  open: () => number;
}> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (d) => answer(socket, d.toString('latin1')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, open: () => sockets.size };
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

function route(retry?: RetryPolicy): Route {
  return {
    name: 'r',
    match: { headers: [], queryParams: [] },
    action: { kind: 'cluster', clusters: [{ cluster: 'c', weight: 1 }], ...(retry ? { retry } : {}) },
  };
}

function config(r: Route, ports: number[], maxRequests?: number) {
  const endpoints = ports.map((port) => ({ address: '127.0.0.1', port }));
  const extra = maxRequests === undefined ? {} : { circuitBreakers: { maxRequests } };
  return sidecarConfig({
    routeConfigs: [{ name: '80', virtualHosts: [vhost('svc.test:80', ['svc.test'], [r])] }],
    clusters: [cluster('c', 'STATIC', endpoints, { lbPolicy: 'ROUND_ROBIN', ...extra })],
  });
}

/** Sends a request on a raw connection and closes it after `ms` (or once `closeWhen` matches what came back). */
function sendAndLeave(port: number, ms: number, closeWhen?: RegExp): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const socket = connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: svc.test\r\n\r\n'));
    socket.on('error', () => {});
    socket.on('data', (d) => {
      got += d.toString('latin1');
      if (closeWhen?.test(got)) socket.destroy();
    });
    socket.on('close', () => resolve(got));
    setTimeout(() => socket.destroy(), ms);
  });
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the cluster action beyond one attempt', () => {
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) s.close();
  });

  it('a per-try timeout is retried on the other endpoint, and the first attempt is abandoned', async () => {
    const silent = await upstream(() => {});
    const quick = await upstream((socket) => socket.write(OK));
    servers.push(silent.server, quick.server);
    const retry: RetryPolicy = {
      numRetries: 1,
      retryOn: ['5xx'],
      retriableStatusCodes: [],
      backoffBaseMs: 1,
      perTryTimeoutMs: 100,
    };
    const h = await startPlane(config(route(retry), [silent.port, quick.port]));
    try {
      // Round robin: whichever endpoint the first request lands on, one of two requests meets the silent one first.
      const replies = [await send(h.port(), 'http://svc.test/'), await send(h.port(), 'http://svc.test/')];
      assert.deepEqual(
        replies.map((r) => [r.status, r.body]),
        [
          [200, 'ok'],
          [200, 'ok'],
        ],
      );
      await h.waitForLogs(2);
      assert.deepEqual(
        h.logs.map((l) => l.record.upstream_host),
        [`127.0.0.1:${quick.port}`, `127.0.0.1:${quick.port}`],
      );
      await delay(50);
      assert.equal(silent.open(), 0, 'the timed-out attempt still holds its connection');
    } finally {
      await h.close();
    }
  });

  it('a per-try timeout with no retry left: 504 UT with upstream_per_try_timeout', async () => {
    const silent = await upstream(() => {});
    servers.push(silent.server);
    const retry: RetryPolicy = {
      numRetries: 0,
      retryOn: ['5xx'],
      retriableStatusCodes: [],
      backoffBaseMs: 1,
      perTryTimeoutMs: 50,
    };
    const h = await startPlane(config(route(retry), [silent.port]));
    try {
      const reply = await send(h.port(), 'http://svc.test/');
      assert.equal(reply.status, 504);
      await h.waitForLogs(1);
      assert.equal(h.logs[0]!.record.response_flags, 'UT');
      assert.equal(h.logs[0]!.record.response_code_details, 'upstream_per_try_timeout');
    } finally {
      await h.close();
    }
  });

  it('a client that goes away while the attempt waits: DC, the upstream exchange closed, the slot given back', async () => {
    const silent = await upstream(() => {});
    servers.push(silent.server);
    const h = await startPlane(config(route(), [silent.port], 1));
    try {
      await sendAndLeave(h.port(), 100);
      await h.waitForLogs(1);
      assert.equal(h.logs[0]!.record.response_flags, 'DC');
      assert.equal(h.logs[0]!.record.response_code_details, 'downstream_remote_disconnect');
      await delay(50);
      assert.equal(silent.open(), 0, 'the abandoned attempt still holds its connection');
      assert.equal(h.logs.length, 1);
      // With maxRequests 1, a slot not given back would answer the next request 503 UO.
      const next = await sendAndLeave(h.port(), 100);
      assert.doesNotMatch(next, /^HTTP\/1\.1 503/);
    } finally {
      await h.close();
    }
  });

  it('a client that goes away during a back-off: no further attempt, DC, one line', async () => {
    let attempts = 0;
    const failing = await upstream((socket) => {
      attempts++;
      socket.write('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
    });
    servers.push(failing.server);
    // Back-off base 200 ms: the first wait is drawn from [0, 200] ms, so a client leaving at 30 ms usually leaves
    // during it; either way no attempt may start after it has left.
    const retry: RetryPolicy = { numRetries: 5, retryOn: ['5xx'], retriableStatusCodes: [], backoffBaseMs: 200 };
    const h = await startPlane(config(route(retry), [failing.port], 1));
    try {
      await sendAndLeave(h.port(), 30);
      const atLeave = attempts;
      await delay(1_500);
      assert.ok(attempts <= atLeave + 1, `${attempts - atLeave} attempts started after the client left`);
      await h.waitForLogs(1);
      assert.equal(h.logs.length, 1);
      assert.equal((h.logs[0]!.record.response_flags ?? '').includes('DC'), true);
      const next = await send(h.port(), 'http://svc.test/');
      assert.equal(next.status, 503, 'the slot was not given back (503 UO would say so in the flags)');
      await h.waitForLogs(2);
      assert.doesNotMatch(h.logs[1]!.record.response_flags ?? '', /UO/);
    } finally {
      await h.close();
    }
  });

  it('a client that goes away in the middle of the body: the upstream exchange is closed, DC', async () => {
    const streaming = await upstream((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nfirst-bytes');
    });
    servers.push(streaming.server);
    const h = await startPlane(config(route(), [streaming.port], 1));
    try {
      const got = await sendAndLeave(h.port(), 2_000, /first-bytes/);
      assert.match(got, /^HTTP\/1\.1 200 OK/);
      await h.waitForLogs(1);
      assert.equal(h.logs[0]!.record.response_flags, 'DC');
      assert.equal(h.logs[0]!.record.response_code, 200);
      await delay(50);
      assert.equal(streaming.open(), 0, 'the upstream connection of an abandoned body stays open');
      assert.equal(h.logs.length, 1);
    } finally {
      await h.close();
    }
  });
});
