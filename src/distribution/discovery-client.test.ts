// What a proxy's discovery stream does with a controller (or anything posing as one) that sends bytes it cannot
// use: each is a reconnect with the reason, never an exception out of the stream and never a config applied.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { eventually } from '../../test/helpers/eventually.js';
import { nodeId } from '../proxy-config/types.js';
import { DiscoveryClient, type DiscoveryEvent } from './discovery-client.js';

/** A stand-in controller: each discovery request is answered by the next of `answers`, then held open. */
async function controllerAnswering(answers: ((res: http.ServerResponse) => void)[]) {
  let served = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    const answer = answers[served++];
    if (answer) answer(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    served: () => served,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test('garbage, a truncated gzip stream and a malformed message are reconnects, not crashes or configs', async () => {
  const gzipped = (res: http.ServerResponse, body: Buffer): void => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' });
    res.end(body);
  };
  const whole = gzipSync('{"type":"session","session":"s1"}\n{"type":"ping"}\n');
  const controller = await controllerAnswering([
    (res) => gzipped(res, Buffer.from('\x1f\x8b\x08 not gzip after all')),
    (res) => gzipped(res, whole.subarray(0, whole.length - 9)),
    (res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end('{"type":"config", not json\n');
    },
  ]);
  const events: DiscoveryEvent[] = [];
  let applied = 0;
  const client = new DiscoveryClient({
    controller: controller.url,
    token: 't',
    node: {
      id: nodeId('sidecar', '127.0.0.2', 'sleep', 'default'),
      type: 'sidecar',
      name: 'sleep',
      namespace: 'default',
      ip: '127.0.0.2',
      labels: {},
      serviceAccount: 'sleep',
    },
    apply: async () => {
      applied++;
      return { ok: true };
    },
    onEvent: (e) => events.push(e),
  });
  try {
    client.start();
    await eventually(() => (controller.served() >= 4 ? true : undefined), 10_000, 'reconnected after each answer');
    const reasons = events.flatMap((e) => (e.type === 'disconnected' ? [e.reason] : []));
    assert.ok(
      reasons.some((r) => /header|invalid|incorrect/i.test(r)),
      `not gzip: ${reasons.join(' | ')}`,
    );
    assert.ok(
      reasons.some((r) => /unexpected end|stream ended/i.test(r)),
      `truncated: ${reasons.join(' | ')}`,
    );
    assert.ok(
      reasons.some((r) => /malformed message from controller/.test(r)),
      `not JSON: ${reasons.join(' | ')}`,
    );
    assert.equal(applied, 0, 'nothing applied from any of them');
  } finally {
    client.close();
    await controller.close();
  }
});
