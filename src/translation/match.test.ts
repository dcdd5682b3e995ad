import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSnapshot } from '../snapshot/index.js';
import { http, match, serviceEntry, SLEEP, virtualService } from '../snapshot/testing/fixtures.js';
import { explainRequest, type RouteQuery } from '../dataplane/index.js';
import { translate } from './translate.js';

const se = serviceEntry('m', { hosts: ['m.test'] });
const vs = virtualService('m', {
  hosts: ['m.test'],
  http: [
    http({
      name: 'exact-ci',
      match: [match({ uri: { kind: 'exact', value: '/Login' }, ignoreUriCase: true })],
      directResponse: { status: 201 },
    }),
    http({
      name: 'q-regex',
      match: [match({ queryParams: { id: { kind: 'regex', value: '[0-9]+' } } })],
      directResponse: { status: 202 },
    }),
    http({
      name: 'q-prefix',
      match: [match({ queryParams: { tag: { kind: 'prefix', value: 'beta' } } })],
      directResponse: { status: 203 },
    }),
    http({
      name: 'authority',
      match: [match({ authority: { kind: 'prefix', value: 'm.test:8' } })],
      directResponse: { status: 204 },
    }),
    http({
      name: 'without',
      match: [
        match({ uri: { kind: 'prefix', value: '/w' }, withoutHeaders: { 'x-debug': { kind: 'exact', value: '1' } } }),
      ],
      directResponse: { status: 205 },
    }),
    http({
      name: 'scheme',
      match: [match({ scheme: { kind: 'exact', value: 'https' } })],
      directResponse: { status: 206 },
    }),
  ],
});
const cfg = translate(SLEEP, buildSnapshot({ version: 'v1', resources: [se, vs], instances: [SLEEP] }));
const at = (req: Partial<RouteQuery>) => explainRequest(cfg, { port: 80, host: 'm.test', ...req }).route;

describe('HTTPMatchRequest fields through translation', () => {
  it('ignoreUriCase on an exact uri', () => {
    assert.equal(at({ path: '/LOGIN' }), 'exact-ci');
    assert.notEqual(at({ path: '/login/x' }), 'exact-ci');
  });
  it('queryParams regex (full match) and prefix', () => {
    assert.equal(at({ path: '/p?id=42' }), 'q-regex');
    assert.notEqual(at({ path: '/p?id=4x' }), 'q-regex');
    assert.equal(at({ path: '/p?tag=beta1' }), 'q-prefix');
  });
  it('authority against the Host as sent, port included', () => {
    assert.equal(at({ path: '/a', host: 'm.test:80' }), 'authority');
    assert.notEqual(at({ path: '/a' }), 'authority');
  });
  it('withoutHeaders inverts the match', () => {
    assert.equal(at({ path: '/w' }), 'without');
    assert.notEqual(at({ path: '/w', headers: { 'x-debug': '1' } }), 'without');
  });
  it('scheme: translated to a :scheme header match, which a plain-HTTP request does not pass', () => {
    const route = cfg.routeConfigs
      .flatMap((rc) => rc.virtualHosts.flatMap((vh) => vh.routes))
      .find((r) => r.name === 'scheme');
    assert.deepEqual(route?.match.headers, [
      { name: ':scheme', match: { kind: 'exact', value: 'https' }, invert: false },
    ]);
    assert.equal(explainRequest(cfg, { port: 80, host: 'm.test', path: '/s' }).status, 404);
  });
});
