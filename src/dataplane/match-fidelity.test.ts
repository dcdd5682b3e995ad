import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Route, RouteMatch } from '../proxy-config/types.js';
import { send, sidecarConfig, startPlane, type Harness } from './testing/fixtures.js';

// The matchers translation emits for VirtualService withoutHeaders, queryParams regex/prefix, ignoreUriCase on
// exact, authority and scheme, evaluated by the running data plane.
const direct = (name: string, match: RouteMatch): Route => ({
  name,
  match,
  action: { kind: 'direct', status: 200, body: name },
});
const m = (p: Partial<RouteMatch>): RouteMatch => ({
  path: { kind: 'prefix', value: '/' },
  headers: [],
  queryParams: [],
  ...p,
});

describe('VirtualService match fields at runtime', () => {
  let h: Harness;
  before(async () => {
    h = await startPlane(
      sidecarConfig({
        routeConfigs: [
          {
            name: '80',
            virtualHosts: [
              {
                name: 'm.test:80',
                domains: ['m.test'],
                routes: [
                  direct('exact-ci', m({ path: { kind: 'exact', value: '/Login', ignoreCase: true } })),
                  direct('q-regex', m({ queryParams: [{ name: 'id', match: { kind: 'regex', value: '[0-9]+' } }] })),
                  direct('q-prefix', m({ queryParams: [{ name: 'tag', match: { kind: 'prefix', value: 'beta' } }] })),
                  direct(
                    'authority',
                    m({
                      headers: [{ name: ':authority', match: { kind: 'exact', value: 'm.test:80' }, invert: false }],
                    }),
                  ),
                  direct(
                    'without',
                    m({
                      path: { kind: 'prefix', value: '/w' },
                      headers: [{ name: 'x-debug', match: { kind: 'exact', value: '1' }, invert: true }],
                    }),
                  ),
                  direct(
                    'scheme-https',
                    m({ headers: [{ name: ':scheme', match: { kind: 'exact', value: 'https' }, invert: false }] }),
                  ),
                  direct(
                    'scheme-http',
                    m({ headers: [{ name: ':scheme', match: { kind: 'exact', value: 'http' }, invert: false }] }),
                  ),
                ],
              },
            ],
          },
        ],
      }),
    );
  });
  after(() => h.close());

  const get = async (path: string, headers: Record<string, string> = {}) =>
    (await send(h.port(), path, { headers: { host: 'm.test', ...headers } })).body;

  it('ignoreUriCase applies to exact paths', async () => {
    assert.equal(await get('/login'), 'exact-ci');
    assert.equal(await get('/LOGIN'), 'exact-ci');
    assert.notEqual(await get('/login/x'), 'exact-ci');
  });

  it('query parameters by full regex and by prefix', async () => {
    assert.equal(await get('/p?id=42'), 'q-regex');
    assert.notEqual(await get('/p?id=42a'), 'q-regex');
    assert.equal(await get('/p?tag=beta-2'), 'q-prefix');
    assert.notEqual(await get('/p?tag=alpha'), 'q-prefix');
  });

  it('authority matches the Host as sent, port included', async () => {
    assert.equal((await send(h.port(), '/a', { headers: { host: 'm.test:80' } })).body, 'authority');
    assert.notEqual(await get('/a'), 'authority');
  });

  it('withoutHeaders matches when the header does not match', async () => {
    assert.equal(await get('/w'), 'without');
    assert.equal(await get('/w', { 'x-debug': '0' }), 'without');
    assert.notEqual(await get('/w', { 'x-debug': '1' }), 'without');
  });

  it('scheme is http for plaintext requests', async () => {
    assert.equal(await get('/s'), 'scheme-http');
  });
});
