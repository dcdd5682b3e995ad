import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Route } from '../proxy-config/types.js';
import { eventually } from '../../test/helpers/eventually.js';
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
import { refusedPort } from '../../test/helpers/refused-port.js';

const mirrored = (name: string, mirrorCluster: string, percentage = 100): Route => ({
  name,
  match: anyMatch,
  action: { kind: 'cluster', clusters: [{ cluster: 'main', weight: 1 }] },
  mirror: { cluster: mirrorCluster, percentage },
});

const until = (cond: () => boolean, what: string): Promise<true> =>
  eventually(() => (cond() ? true : undefined), 2_000, what);

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
    const closedPort = await refusedPort();
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
          cluster('dead', 'STATIC', [{ address: '127.0.0.1', port: closedPort }]),
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
    // The shadow holds its copy until release(): the main response can only arrive because it did not wait.
    const r = await send(h.port(), '/slow', { headers: { host: 'foo.com' } });
    assert.equal(r.body, 'main');
    await until(() => shadow.seen.some((s) => s.url === '/slow'), 'the slow copy arrived');
    release();
  });

  it('a body over 64 KiB is not mirrored', async () => {
    const before = shadow.seen.length;
    const skippedBefore = h.plane.mirrors.skipped;
    const big = 'x'.repeat(70 * 1024);
    const r = await send(h.port(), '/big', { method: 'POST', headers: { host: 'foo.com' }, body: big });
    assert.equal(r.body, 'main');
    assert.equal(main.seen.at(-1)?.body.length, big.length);
    // Counted as skipped when the body passed the limit: from then on no copy is sent.
    await until(() => h.plane.mirrors.skipped === skippedBefore + 1, 'the skip was counted');
    assert.equal(shadow.seen.length, before);
  });

  it('a failing mirror is only counted: one access-log line, for the client request', async () => {
    const logsBefore = h.logs.length;
    const failedBefore = h.plane.mirrors.failed;
    const r = await send(h.port(), '/x', { headers: { host: 'broken.com' } });
    assert.equal(r.status, 200);
    await until(() => h.plane.mirrors.failed === failedBefore + 1, 'the failure was counted');
    // The client's request is logged and the mirror has failed: nothing is left that could write a line.
    await h.waitForLogs(logsBefore + 1);
    assert.equal(h.logs.length, logsBefore + 1);
    assert.equal(h.logs.at(-1)?.record.response_code, 200);
  });

  it('percentage 0 never mirrors', async () => {
    const before = shadow.seen.length;
    await send(h.port(), '/n', { headers: { host: 'never.com' } });
    // A mirrored request after it: once its copy is in, a copy of /n would have been too (copies go at once).
    await send(h.port(), '/marker', { headers: { host: 'foo.com' } });
    await until(() => shadow.seen.some((c) => c.url === '/marker'), 'the marker copy arrived');
    assert.deepEqual(
      shadow.seen.slice(before).map((c) => c.url),
      ['/marker'],
    );
  });
});
