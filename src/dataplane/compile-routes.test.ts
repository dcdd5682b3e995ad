import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Route } from '../proxy-config/types.js';
import { compileRoute, compileRouteConfig } from './compile-routes.js';
import { ConfigError } from './errors.js';

const direct = (name: string): Route => ({
  name,
  match: { headers: [], queryParams: [] },
  action: { kind: 'direct', status: 200 },
});

describe('compileRouteConfig', () => {
  const rc = compileRouteConfig(
    {
      name: '80',
      virtualHosts: [
        { name: 'catch-all', domains: ['*'], routes: [direct('any')] },
        { name: 'short', domains: ['*.com'], routes: [] },
        { name: 'long', domains: ['*.example.com'], routes: [] },
        { name: 'exact', domains: ['api.example.com'], routes: [] },
        { name: 'dup', domains: ['api.example.com'], routes: [] },
      ],
    },
    'rc',
  );

  it('looks up exact, then the longest wildcard suffix, then "*"', () => {
    assert.equal(rc.findVirtualHost('api.example.com')?.name, 'exact');
    assert.equal(rc.findVirtualHost('www.example.com')?.name, 'long');
    assert.equal(rc.findVirtualHost('a.b.example.com')?.name, 'long');
    assert.equal(rc.findVirtualHost('example.com')?.name, 'short', '*.example.com does not match example.com');
    assert.equal(rc.findVirtualHost('localhost')?.name, 'catch-all');
  });

  it('routes that match alike share one compiled test, and each still matches only its own requests', () => {
    const prefix = (name: string, value: string): Route => ({
      ...direct(name),
      match: { path: { kind: 'prefix', value }, headers: [], queryParams: [] },
    });
    const shared = compileRouteConfig(
      {
        name: '80',
        virtualHosts: [
          { name: 'a', domains: ['a.test'], routes: [prefix('a-api', '/api'), prefix('a-any', '/')] },
          { name: 'b', domains: ['b.test'], routes: [prefix('b-api', '/api'), prefix('b-any', '/')] },
        ],
      },
      'rc',
    );
    const [aApi, aAny] = shared.findVirtualHost('a.test')!.routes;
    const [bApi, bAny] = shared.findVirtualHost('b.test')!.routes;
    assert.equal(aApi!.matches, bApi!.matches);
    assert.equal(aAny!.matches, bAny!.matches);
    assert.notEqual(aApi!.matches, aAny!.matches);
    const view = (path: string) =>
      ({ method: 'GET', path, query: '', authority: 'a.test', host: 'a.test', scheme: 'http', headers: {} }) as const;
    assert.equal(aApi!.matches(view('/api/x')), true);
    assert.equal(aApi!.matches(view('/other')), false);
    assert.equal(aAny!.matches(view('/other')), true);
  });

  it('rejects unsupported wildcards', () => {
    assert.throws(
      () => compileRouteConfig({ name: 'x', virtualHosts: [{ name: 'v', domains: ['foo.*'], routes: [] }] }, 'rc'),
      ConfigError,
    );
  });
});

describe('path rewrites', () => {
  it('substitutes every regex match with RE2 group references', () => {
    const route = compileRoute(
      {
        ...direct('r'),
        action: {
          kind: 'cluster',
          clusters: [{ cluster: 'c', weight: 1 }],
          regexRewrite: { pattern: '/v([0-9]+)/', substitution: '/version-\\1/' },
        },
      },
      'r',
    );
    assert.equal(route.action.kind, 'cluster');
    if (route.action.kind !== 'cluster') return;
    assert.equal(route.action.rewritePath?.('/api/v1/x/v2/y'), '/api/version-1/x/version-2/y');
  });

  it('rejects weighted clusters that carry no weight', () => {
    assert.throws(
      () =>
        compileRoute(
          {
            ...direct('r'),
            action: {
              kind: 'cluster',
              clusters: [
                { cluster: 'a', weight: 0 },
                { cluster: 'b', weight: 0 },
              ],
            },
          },
          'route',
        ),
      /route\.action\.clusters: needs at least one cluster with a positive weight/,
    );
  });
});
