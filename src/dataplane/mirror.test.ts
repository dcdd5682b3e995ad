import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Route } from '../proxy-config/types.js';
import { shadowHost } from './mirror.js';
import {
  anyMatch,
  cluster,
  passthroughCluster,
  send,
  sidecarConfig,
  startPlane,
  startUpstream,
  vhost,
  type Harness,
  type Upstream,
} from './testing/fixtures.js';

const mirrored = (name: string, mirrorCluster: string, percentage = 100): Route => ({
  name,
  match: anyMatch,
  action: { kind: 'cluster', clusters: [{ cluster: 'main', weight: 1 }] },
  mirror: { cluster: mirrorCluster, percentage },
});

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), what);
}

describe('request mirroring', () => {
  let main: Upstream;
  let shadow: Upstream;
  let h: Harness;
  let release: () => void = () => {};
  before(async () => {
    main = await startUpstream((_req, res) => res.end('main'));
    // The shadow answers only when released: a slow mirror must not hold the client's response.
    shadow = await startUpstream((req, res) => {
      if (req.url === '/slow') release = () => res.end('shadow');
      else res.end('shadow');
    });
    const closed = await startUpstream();
    await closed.close();
    h = await startPlane(
      sidecarConfig({
        routeConfigs: [
          {
            name: '80',
            virtualHosts: [
              vhost('m', ['foo.com'], [mirrored('m', 'shadow')]),
              vhost('broken', ['broken.com'], [mirrored('broken', 'dead')]),
              vhost('none', ['never.com'], [mirrored('never', 'shadow', 0)]),
            ],
          },
        ],
        clusters: [
          passthroughCluster,
          cluster('main', 'STATIC', [{ address: '127.0.0.1', port: main.port }]),
          cluster('shadow', 'STATIC', [{ address: '127.0.0.1', port: shadow.port }]),
          cluster('dead', 'STATIC', [{ address: '127.0.0.1', port: closed.port }]),
        ],
      }),
    );
  });
  after(async () => {
    release();
    await h.close();
    await main.close();
    await shadow.close();
  });

  it('suffixes the authority as Envoy does', () => {
    assert.equal(shadowHost('foo.com'), 'foo.com-shadow');
    assert.equal(shadowHost('foo.com:8080'), 'foo.com-shadow:8080');
    assert.equal(shadowHost('[::1]:80'), '[::1]-shadow:80');
  });

  it('sends a copy with Host "-shadow" and the body; the client sees only the main response', async () => {
    const r = await send(h.port(), '/post?q=1', {
      method: 'POST',
      headers: { host: 'foo.com', 'content-type': 'text/plain' },
      body: 'payload',
    });
    assert.equal(r.body, 'main');
    await until(() => shadow.seen.length === 1, 'the shadow got the copy');
    const copy = shadow.seen[0]!;
    assert.equal(copy.headers.host, 'foo.com-shadow');
    assert.equal(copy.url, '/post?q=1');
    assert.equal(copy.body, 'payload');
    assert.equal(main.seen.at(-1)?.headers.host, 'foo.com');
  });

  it('a slow mirror does not delay the response', async () => {
    const started = Date.now();
    const r = await send(h.port(), '/slow', { headers: { host: 'foo.com' } });
    assert.equal(r.body, 'main');
    assert.ok(Date.now() - started < 1000);
    await until(() => shadow.seen.some((s) => s.url === '/slow'), 'the slow copy arrived');
    release();
  });

  it('a body over 64 KiB is not mirrored', async () => {
    const before = shadow.seen.length;
    const big = 'x'.repeat(70 * 1024);
    const r = await send(h.port(), '/big', { method: 'POST', headers: { host: 'foo.com' }, body: big });
    assert.equal(r.body, 'main');
    assert.equal(main.seen.at(-1)?.body.length, big.length);
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(shadow.seen.length, before);
    assert.ok(h.plane.mirrors.skipped >= 1);
  });

  it('a failing mirror is only counted: one access-log line, for the client request', async () => {
    const logsBefore = h.logs.length;
    const failedBefore = h.plane.mirrors.failed;
    const r = await send(h.port(), '/x', { headers: { host: 'broken.com' } });
    assert.equal(r.status, 200);
    await until(() => h.plane.mirrors.failed === failedBefore + 1, 'the failure was counted');
    await h.waitForLogs(logsBefore + 1);
    await new Promise((res) => setTimeout(res, 30));
    assert.equal(h.logs.length, logsBefore + 1);
    assert.equal(h.logs.at(-1)?.record.response_code, 200);
  });

  it('percentage 0 never mirrors', async () => {
    const before = shadow.seen.length;
    await send(h.port(), '/n', { headers: { host: 'never.com' } });
    await new Promise((res) => setTimeout(res, 30));
    assert.equal(shadow.seen.length, before);
  });
});
