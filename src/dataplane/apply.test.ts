import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { eventually } from '../../test/helpers/eventually.js';
import { allowAny, blockAll, send, sidecarConfig, startPlane } from './testing/fixtures.js';

describe('apply', () => {
  it('keeps a listener socket across pushes while its routing changes', async () => {
    const h = await startPlane(sidecarConfig({ defaultRoute: blockAll, version: 'v1' }));
    try {
      const port = h.port();
      assert.equal((await send(port, 'http://example.test/')).status, 502);
      const result = await h.plane.apply(
        sidecarConfig({
          version: 'v2',
          defaultRoute: { name: 'hello', match: allowAny.match, action: { kind: 'direct', status: 200, body: 'v2' } },
        }),
      );
      assert.deepEqual(result, { ok: true });
      assert.equal(h.plane.version, 'v2');
      assert.equal(h.port(), port);
      const reply = await send(port, 'http://example.test/');
      assert.equal(reply.status, 200);
      assert.equal(reply.body, 'v2');
    } finally {
      await h.close();
    }
  });

  it('rejects a config whose port is taken and keeps serving the previous one', async () => {
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const taken = (squatter.address() as AddressInfo).port;
    const h = await startPlane(sidecarConfig({ defaultRoute: blockAll, version: 'v1' }));
    try {
      const config = sidecarConfig({ version: 'v2' });
      const withSecond = {
        ...config,
        listeners: [
          ...config.listeners,
          {
            kind: 'gateway-http' as const,
            name: 'second',
            address: '127.0.0.1',
            port: taken,
            servicePort: 80,
            routeConfigName: 'http.80',
          },
        ],
      };
      const result = await h.plane.apply(withSecond);
      assert.equal(result.ok, false);
      assert.match(!result.ok ? result.error : '', new RegExp(`listener second \\(127\\.0\\.0\\.1:${taken}\\)`));
      assert.equal(h.plane.version, 'v1');
      assert.deepEqual(
        h.plane.listenerAddresses.map((l) => l.name),
        ['virtualOutbound'],
      );
      assert.equal((await send(h.port(), 'http://example.test/')).status, 502);
      assert.ok(h.warnings.some((w) => w.includes('cannot bind')));
    } finally {
      await h.close();
      squatter.close();
    }
  });

  it('rejects an invalid config naming the field, and keeps the old one', async () => {
    const h = await startPlane(sidecarConfig({ defaultRoute: blockAll }));
    try {
      const bad = sidecarConfig({
        version: 'v2',
        routeConfigs: [
          {
            name: '80',
            virtualHosts: [
              {
                name: 'x',
                domains: ['x.test'],
                routes: [
                  {
                    name: 'r',
                    match: { path: { kind: 'regex', value: '(' }, headers: [], queryParams: [] },
                    action: { kind: 'direct', status: 200 },
                  },
                ],
              },
            ],
          },
        ],
      });
      const result = await h.plane.apply(bad);
      assert.equal(result.ok, false);
      assert.match(
        !result.ok ? result.error : '',
        /routeConfigs\[0\] \(80\)\.virtualHosts\[0\] \(x\)\.routes\[0\] \(r\)\.match\.path: invalid regex/,
      );
      assert.equal(h.plane.version, 'v1');
      assert.equal((await send(h.port(), 'http://example.test/')).status, 502);
    } finally {
      await h.close();
    }
  });

  it('opens new listeners and closes removed ones', async () => {
    const h = await startPlane(sidecarConfig());
    try {
      const first = h.port();
      const config = sidecarConfig({ version: 'v2' });
      const moved = { ...config, listeners: [{ ...config.listeners[0]!, name: 'renamed', port: 0 }] };
      assert.deepEqual(await h.plane.apply(moved), { ok: true });
      const [l] = h.plane.listenerAddresses;
      assert.equal(l!.name, 'renamed');
      assert.notEqual(l!.port, first);
      await eventually(
        () =>
          send(first, 'http://example.test/').then(
            () => undefined,
            () => true,
          ),
        2_000,
        'the removed listener refuses connections',
      );
    } finally {
      await h.close();
    }
  });
});
