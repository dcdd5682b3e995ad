import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Cluster, Route } from '../proxy-config/types.js';
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

const to = (name: string, c: string): Route => ({
  name,
  match: anyMatch,
  action: { kind: 'cluster', clusters: [{ cluster: c, weight: 1 }] },
});
const od: Cluster['outlierDetection'] = {
  consecutive5xx: 2,
  intervalMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionPercent: 100,
};

describe('outlier detection and load balancing on live sockets', () => {
  let good: Upstream;
  let bad: Upstream;
  let h: Harness;
  const clock = { t: 1_000_000 };
  before(async () => {
    good = await startUpstream((_req, res) => res.end('good'));
    bad = await startUpstream((_req, res) => {
      res.statusCode = 503;
      res.end('bad');
    });
    const ep = (u: Upstream) => ({ address: '127.0.0.1', port: u.port });
    h = await startPlane(
      sidecarConfig({
        routeConfigs: [
          {
            name: '80',
            virtualHosts: [
              vhost('pair', ['pair.test'], [to('pair', 'pair')]),
              vhost('lone', ['lone.test'], [to('lone', 'lone')]),
              vhost('hash', ['hash.test'], [to('hash', 'hash')]),
            ],
          },
        ],
        clusters: [
          passthroughCluster,
          cluster('pair', 'STATIC', [ep(bad), ep(good)], { outlierDetection: od }),
          cluster('lone', 'STATIC', [ep(bad)], { outlierDetection: od }),
          cluster('hash', 'STATIC', [ep(bad), ep(good), { address: '127.0.0.2', port: good.port }], {
            hashPolicy: { kind: 'header', name: 'x-user' },
          }),
        ],
      }),
      { now: () => clock.t },
    );
  });
  after(async () => {
    await h.close();
    await good.close();
    await bad.close();
  });

  it('ejects an endpoint after consecutive 5xx; the load balancer skips it until the ejection ends', async () => {
    const bodies: string[] = [];
    for (let i = 0; i < 4; i++) bodies.push((await send(h.port(), '/', { headers: { host: 'pair.test' } })).body);
    assert.deepEqual(bodies, ['bad', 'good', 'bad', 'good']);
    for (let i = 0; i < 4; i++)
      assert.equal((await send(h.port(), '/', { headers: { host: 'pair.test' } })).body, 'good');
    clock.t += 30_000;
    const back = [];
    for (let i = 0; i < 2; i++) back.push((await send(h.port(), '/', { headers: { host: 'pair.test' } })).body);
    assert.ok(back.includes('bad'), 'back in the set after baseEjectionTime');
  });

  it('all endpoints ejected: 503 UH', async () => {
    for (let i = 0; i < 2; i++)
      assert.equal((await send(h.port(), '/', { headers: { host: 'lone.test' } })).status, 503);
    const logsBefore = h.logs.length;
    const r = await send(h.port(), '/', { headers: { host: 'lone.test' } });
    assert.equal(r.status, 503);
    assert.equal(r.body, 'no healthy upstream');
    await h.waitForLogs(logsBefore + 1);
    assert.equal(h.logs.at(-1)?.record.response_flags, 'UH');
  });

  it('consistent hashing by header sends a user to one endpoint', async () => {
    for (const user of ['alice', 'bob', 'carol']) {
      const seen = new Set<string>();
      for (let i = 0; i < 5; i++) {
        const n = h.logs.length;
        await send(h.port(), '/', { headers: { host: 'hash.test', 'x-user': user } });
        await h.waitForLogs(n + 1);
        seen.add(String(h.logs[n]?.record.upstream_host));
      }
      assert.equal(seen.size, 1, user);
    }
  });
});
